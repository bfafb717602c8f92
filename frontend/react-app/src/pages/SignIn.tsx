import { useState } from "react";
import { Alert, Button, Container, Paper, PasswordInput, Stack, TextInput, Title } from "@mantine/core";
import { signIn } from "../api/auth";

export function SignIn({ onSignedIn }: { onSignedIn?: () => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setBusy(true); setError(null);
    try { await signIn(email, password); onSignedIn?.(); }
    catch (err) { setError(err instanceof Error ? err.message : String(err)); }
    finally { setBusy(false); }
  }
  return (
    <Container size={420} py="xl">
      <main>
        <Title order={1} ta="center" mb="md">Sign in to Cairn</Title>
        <Paper withBorder p="lg" radius="md">
          <form onSubmit={submit} aria-label="Sign in">
            <Stack>
              <TextInput label="Email" type="email" required autoComplete="username" value={email}
                onChange={(e) => setEmail(e.currentTarget.value)} />
              <PasswordInput label="Password" required autoComplete="current-password" value={password}
                onChange={(e) => setPassword(e.currentTarget.value)} />
              {error && <Alert color="red" role="alert" title="Sign-in failed">{error}</Alert>}
              <Button type="submit" loading={busy}>Sign in</Button>
            </Stack>
          </form>
        </Paper>
      </main>
    </Container>
  );
}
