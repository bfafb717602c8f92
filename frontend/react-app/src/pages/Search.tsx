import { useState } from "react";
import { Link } from "react-router-dom";
import { Anchor, Button, Group, Paper, SegmentedControl, Select, Stack, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";
import { api, unwrap, type SearchHit } from "../api/client";
import { Highlight } from "../components/Highlight";
import { Empty, ErrorState, Loading } from "../components/States";

type Mode = "hybrid" | "vector" | "lexical";

export function Search() {
  const [query, setQuery] = useState("");
  const [mode, setMode] = useState<Mode>("hybrid");
  const [collection, setCollection] = useState<string | null>(null);
  const collections = useQuery({ queryKey: ["collections"], queryFn: () => unwrap(api.GET("/api/v1/collections")) });
  const search = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/search", { body: { query, mode, collection, k: 20, offset: 0, group_by: "chunk" } })),
  });
  const hits = (search.data?.results ?? []) as unknown as SearchHit[];
  return (
    <Stack>
      <Title order={1}>Search</Title>
      <form onSubmit={(e) => { e.preventDefault(); if (query.trim()) search.mutate(); }} role="search">
        <Stack>
          <TextInput label="Query" value={query} onChange={(e) => setQuery(e.currentTarget.value)} required />
          <Group align="end">
            <div><Text size="sm" fw={500} id="mode-label">Mode</Text>
              <SegmentedControl aria-labelledby="mode-label" value={mode} onChange={(v) => setMode(v as Mode)} data={["hybrid", "vector", "lexical"]} /></div>
            <Select label="Collection" placeholder="All collections" clearable value={collection}
              data={(collections.data ?? []).map((c) => c.name)} onChange={setCollection} />
            <Button type="submit" loading={search.isPending}>Search</Button>
          </Group>
        </Stack>
      </form>
      {search.isPending && <Loading label="Searching…" />}
      {search.error && <ErrorState error={search.error} />}
      {search.isSuccess && hits.length === 0 && <Empty>No matches.</Empty>}
      {search.isSuccess && hits.length > 0 && <Text size="sm" c="dimmed">{hits.length} results in {search.data?.took_ms} ms</Text>}
      {hits.map((h) => (
        <Paper key={h.chunk_id} withBorder p="sm" className="hit">
          <Group justify="space-between" wrap="nowrap">
            <Anchor component={Link} to={`/documents/${h.document_id}?chunk=${h.chunk_id}`}>
              {h.filename}{h.page != null ? ` · page ${h.page}` : ""}
            </Anchor>
            <Text size="xs" c="dimmed">score {h.score.toFixed(3)}</Text>
          </Group>
          {h.highlights.length > 0
            ? h.highlights.map((s, i) => <Text key={i} size="sm"><Highlight html={s} /></Text>)
            : <Text size="sm" lineClamp={3}>{h.text}</Text>}
        </Paper>
      ))}
    </Stack>
  );
}
