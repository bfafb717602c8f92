import { Alert, Center, Loader, Text } from "@mantine/core";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return <Center p="lg" role="status"><Loader size="sm" /><Text ml="sm">{label}</Text></Center>;
}
export function ErrorState({ error }: { error: unknown }) {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string })?.code;
  return <Alert color="red" title="Something went wrong" role="alert">{code ? `${code}: ` : ""}{message}</Alert>;
}
export function Empty({ children }: { children: React.ReactNode }) {
  return <Text c="dimmed" p="md">{children}</Text>;
}
