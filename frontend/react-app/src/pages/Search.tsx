import { useState } from "react";
import type { UseMutationResult } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { Anchor, Button, Group, Paper, SegmentedControl, Select, Stack, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas, type SearchHit } from "../api/client";
import { FileButton, MultiSelect } from "@mantine/core";
import { Highlight } from "../components/Highlight";
import { Empty, ErrorState, Loading } from "../components/States";
import { Thumb, useHasThumb } from "../components/ImageParts";
import { labelCounts, similarImages, similarToFile, type ImageHit } from "../api/contract";

type Mode = "hybrid" | "vector" | "lexical";

export function Search() {
  const [query, setQuery] = useState("");
  const [mode, setMode] = useState<Mode>("hybrid");
  const [collection, setCollection] = useState<string | null>(null);
  const [labels, setLabels] = useState<string[]>([]);
  const [similarTo, setSimilarTo] = useState<{ id: string; filename: string } | null>(null);
  const counts = useQuery({ queryKey: ["label-counts"], queryFn: () => labelCounts(), retry: false });
  const collections = useQuery({ queryKey: ["collections"], queryFn: () => unwrap(api.GET("/api/v1/collections")) });
  const search = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/search", { body: { query, mode, collection, k: 20, offset: 0, group_by: "chunk", highlights: true,
      ...(labels.length ? { filters: { labels: byKind(labels) } as unknown as Schemas["SearchFilters"] } : {}) } })),
  });
  const similar = useMutation({ mutationFn: (to: string | File) => (typeof to === "string" ? similarImages(to, 20, collection) : similarToFile(to, 20, collection)) });
  function findSimilar(id: string, filename: string) { setSimilarTo({ id, filename }); similar.mutate(id); }
  function byImage(file: File | null) { if (file) { setSimilarTo({ id: "", filename: file.name }); similar.mutate(file); } }
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
            {counts.data && counts.data.length > 0 && (
              <MultiSelect label="Labels" placeholder="Any label" clearable searchable value={labels} onChange={setLabels} maw={320}
                data={counts.data.map((l) => ({ value: `${l.kind}:${l.value}`, label: `${l.kind}: ${l.value}` }))} />)}
            <Button type="submit" loading={search.isPending}>Search</Button>
            <FileButton onChange={byImage} accept="image/png,image/jpeg,image/webp,image/gif,image/tiff,image/bmp">
              {(props) => <Button {...props} variant="default">Similar to an image…</Button>}
            </FileButton>
          </Group>
        </Stack>
      </form>
      {similarTo && <SimilarResults to={similarTo} state={similar} onClose={() => { setSimilarTo(null); similar.reset(); }} />}
      {search.isPending && <Loading label="Searching…" />}
      {search.error && <ErrorState error={search.error} />}
      {search.isSuccess && hits.length === 0 && <Empty>No matches.</Empty>}
      {search.isSuccess && hits.length > 0 && <Text size="sm" c="dimmed">{hits.length} results in {search.data?.took_ms} ms</Text>}
      {hits.map((h) => (
        <Paper key={h.chunk_id} withBorder p="sm" className="hit">
          <Group justify="space-between" wrap="nowrap">
            <HitImage hit={h} onSimilar={findSimilar} />
            <Anchor component={Link} to={`/documents/${h.document_id}?chunk=${h.chunk_id}`} style={{ flex: 1 }}>
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

/** {"topic": ["finance"]} from ["topic:finance"] (filters.labels of the contract). */
export function byKind(labels: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const l of labels) { const [kind, ...rest] = l.split(":"); (out[kind] ??= []).push(rest.join(":")); }
  return out;
}

/** A hit's thumbnail and "find similar", when its document has a thumbnail (images, PDFs). */
function HitImage({ hit, onSimilar }: { hit: SearchHit; onSimilar: (id: string, filename: string) => void }) {
  const has = useHasThumb(hit.document_id);
  if (!has) return null;
  return (
    <Stack gap={4} align="center">
      <Thumb id={hit.document_id} alt={hit.filename} size={72} />
      <Button size="compact-xs" variant="light" onClick={() => onSimilar(hit.document_id, hit.filename)} aria-label={`Find similar images to ${hit.filename}`}>Find similar</Button>
    </Stack>
  );
}

function SimilarResults({ to, state, onClose }: { to: { id: string; filename: string }; state: UseMutationResult<ImageHit[] | null, Error, string | File>; onClose: () => void }) {
  return (
    <Paper withBorder p="sm" className="similar-results">
      <Group justify="space-between"><Text fw={500}>Images similar to {to.filename}</Text><Button size="xs" variant="subtle" onClick={onClose}>Close</Button></Group>
      {state.isPending && <Loading label="Looking for similar images…" />}
      {state.error && <ErrorState error={state.error} />}
      {state.isSuccess && state.data === null && <Empty>Image search is not available on this server.</Empty>}
      {state.data && state.data.length === 0 && <Empty>No similar images.</Empty>}
      {state.data && state.data.length > 0 && (
        <Group gap="sm">{state.data.map((h) => (
          <Stack key={h.document_id} gap={2} align="center" className="similar">
            <Thumb id={h.document_id} alt={h.filename} size={72} />
            <Anchor component={Link} to={`/documents/${h.document_id}`} size="xs">{h.filename}</Anchor>
            <Text size="xs" c="dimmed">score {h.score.toFixed(3)}</Text>
          </Stack>))}</Group>)}
    </Paper>
  );
}
