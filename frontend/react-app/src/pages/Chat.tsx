import { useRef, useState } from "react";
import { Link } from "react-router-dom";
import { Alert, Anchor, Button, Grid, Group, Modal, NavLink, Paper, Stack, Text, Textarea, Title } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Source } from "../api/client";
import { authFetch, errorOf } from "../api/auth";
import { readSSE } from "../api/sse";
import { AnswerText } from "../components/AnswerText";
import { Empty, ErrorState } from "../components/States";

interface Turn { role: "user" | "assistant"; text: string; sources: Source[]; notFound?: boolean; error?: string; streaming?: boolean }

export function Chat() {
  const qc = useQueryClient();
  const [conversation, setConversation] = useState<string | null>(null);
  const [turns, setTurns] = useState<Turn[]>([]);
  const [message, setMessage] = useState("");
  const [cited, setCited] = useState<Source | null>(null);
  const abort = useRef<AbortController | null>(null);
  const [busy, setBusy] = useState(false);
  const conversations = useQuery({ queryKey: ["conversations"], queryFn: () => unwrap(api.GET("/api/v1/conversations")) });

  function update(p: Partial<Turn>) {
    setTurns((ts) => ts.map((t, i) => (i === ts.length - 1 ? { ...t, ...p, text: p.text !== undefined ? t.text + p.text : t.text } : t)));
  }

  async function open(id: string) {
    abort.current?.abort();
    const c = await unwrap(api.GET("/api/v1/conversations/{conversation_id}", { params: { path: { conversation_id: id } } }));
    setConversation(id);
    setTurns(c.messages.map((m) => ({ role: m.role === "user" ? "user" : "assistant", text: m.content, sources: m.sources as unknown as Source[] })));
  }

  async function ask(e: React.FormEvent) {
    e.preventDefault();
    const text = message.trim();
    if (!text || busy) return;
    setMessage("");
    setTurns((ts) => [...ts, { role: "user", text, sources: [] }, { role: "assistant", text: "", sources: [], streaming: true }]);
    const ctrl = new AbortController();
    abort.current = ctrl;
    setBusy(true);
    try {
      const resp = await authFetch("/api/v1/chat", {
        method: "POST", signal: ctrl.signal,
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify({ message: text, conversation_id: conversation, stream: true }),
      });
      if (!resp.ok || !resp.body) throw await errorOf(resp);
      for await (const ev of readSSE(resp.body)) {
        const data = JSON.parse(ev.data || "{}");
        if (ev.event === "retrieval") { update({ sources: data.sources }); if (data.conversation_id) setConversation(data.conversation_id); }
        else if (ev.event === "token") update({ text: data.text });
        else if (ev.event === "done") update({ notFound: data.not_found, streaming: false });
        else if (ev.event === "error") update({ error: `${data.code ?? "error"}: ${data.message ?? ""}`, streaming: false });
      }
    } catch (err) {
      if (ctrl.signal.aborted) update({ error: "Stopped.", streaming: false });
      else update({ error: err instanceof Error ? err.message : String(err), streaming: false });
    } finally {
      update({ streaming: false });
      setBusy(false);
      void qc.invalidateQueries({ queryKey: ["conversations"] });
    }
  }

  const last = [...turns].reverse().find((t) => t.role === "assistant");
  return (
    <Grid>
      <Grid.Col span={{ base: 12, md: 3 }}>
        <Title order={2} size="h4">Conversations</Title>
        <Button variant="subtle" onClick={() => { abort.current?.abort(); setConversation(null); setTurns([]); }}>New conversation</Button>
        {conversations.error && <ErrorState error={conversations.error} />}
        {conversations.data?.items.length === 0 && <Empty>None yet.</Empty>}
        <nav aria-label="Conversations">
          {conversations.data?.items.map((c) => (
            <NavLink key={c.id} label={c.title} active={c.id === conversation} onClick={() => void open(c.id)} component="button" />
          ))}
        </nav>
      </Grid.Col>
      <Grid.Col span={{ base: 12, md: 6 }}>
        <Stack>
          <Title order={1}>Chat</Title>
          {turns.length === 0 && <Empty>Ask a question about your documents; answers cite their sources as [n].</Empty>}
          <div aria-live="polite">
            {turns.map((t, i) => (
              <Paper key={i} withBorder p="sm" mb="xs" bg={t.role === "user" ? "gray.0" : undefined} className={t.role === "assistant" ? "answer" : "question"}>
                <Text size="xs" c="dimmed">{t.role === "user" ? "You" : "Cairn"}</Text>
                {t.notFound && <Alert color="yellow" title="Not in your documents" mb="xs">Nothing in the documents you can read answers this.</Alert>}
                {t.role === "assistant"
                  ? <AnswerText text={t.text} known={new Set(t.sources.map((s) => s.n))} onCite={(n) => setCited(t.sources.find((s) => s.n === n) ?? null)} />
                  : <Text style={{ whiteSpace: "pre-wrap" }}>{t.text}</Text>}
                {t.streaming && <Text size="xs" c="dimmed" role="status">Answering…</Text>}
                {t.error && <Text size="sm" c="red.9" role="alert">{t.error}</Text>}
              </Paper>
            ))}
          </div>
          <form onSubmit={ask}>
            <Textarea label="Your question" value={message} autosize minRows={2} onChange={(e) => setMessage(e.currentTarget.value)}
              onKeyDown={(e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); void ask(e); } }} />
            <Group mt="xs">
              <Button type="submit" disabled={busy}>Ask</Button>
              {busy && <Button color="red" variant="light" onClick={() => abort.current?.abort()}>Stop</Button>}
            </Group>
          </form>
        </Stack>
      </Grid.Col>
      <Grid.Col span={{ base: 12, md: 3 }}>
        <Title order={2} size="h4">Sources</Title>
        {!last?.sources.length && <Empty>No sources yet.</Empty>}
        {last?.sources.map((s) => (
          <Paper key={s.n} withBorder p="xs" mb="xs">
            <Anchor component="button" type="button" onClick={() => setCited(s)}>[{s.n}] {s.filename}{s.page != null ? ` · p. ${s.page}` : ""}</Anchor>
            <Text size="xs" lineClamp={3}>{s.snippet}</Text>
          </Paper>
        ))}
      </Grid.Col>
      <Modal opened={cited !== null} onClose={() => setCited(null)} title={cited ? `[${cited.n}] ${cited.filename}` : ""} closeButtonProps={{ "aria-label": "Close" }}>
        {cited && (
          <Stack>
            <Text size="sm" c="gray.7">{cited.collection}{cited.page != null ? ` · page ${cited.page}` : ""}</Text>
            <Text style={{ whiteSpace: "pre-wrap" }} className="cited-passage">{cited.snippet}</Text>
            <Anchor component={Link} to={`/documents/${cited.document_id}?chunk=${cited.chunk_id}`}>Open in document</Anchor>
          </Stack>
        )}
      </Modal>
    </Grid>
  );
}
