import { useEffect, useState } from "react";
import { useParams, useSearchParams } from "react-router-dom";
import { Alert, Badge, Button, Group, Paper, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { authFetch, errorOf } from "../api/auth";
import { ErrorState, Loading } from "../components/States";
import { StatusBadge } from "../components/StatusBadge";
import { DocumentLabels } from "../components/DocumentLabels";
import { ImageMeta, OcrOverlay, SimilarImages, Thumb } from "../components/ImageParts";
import { apiUrl, type ContractChunk, type ContractDocument } from "../api/contract";

function useOriginal(id: string, enabled: boolean) {
  return useQuery({
    queryKey: ["original", id], enabled, staleTime: Infinity,
    queryFn: async () => {
      const resp = await authFetch(apiUrl(`/api/v1/documents/${id}/download`));
      if (!resp.ok) throw await errorOf(resp);
      return URL.createObjectURL(await resp.blob());
    },
  });
}

export function DocumentView() {
  const { id = "" } = useParams();
  const [params] = useSearchParams();
  const focus = Number(params.get("chunk") ?? NaN);
  const [preview, setPreview] = useState(false);
  const doc = useQuery({ queryKey: ["document", id], queryFn: () => unwrap(api.GET("/api/v1/documents/{document_id}", { params: { path: { document_id: id } } })) });
  const chunks = useQuery({ queryKey: ["chunks", id], queryFn: () => unwrap(api.GET("/api/v1/documents/{document_id}/chunks", { params: { path: { document_id: id }, query: { limit: 1000 } } })) });
  const type = doc.data?.content_type ?? "";
  const previewable = type === "application/pdf" || (type.startsWith("image/") && type !== "image/svg+xml");
  const original = useOriginal(id, preview);
  // set by the events stream when the document is deleted in another session (api/events.ts)
  // (never fetched: only the cache, which applyDeleted writes)
  const deleted = useQuery({ queryKey: ["document-deleted", id], queryFn: () => false, enabled: false });
  useEffect(() => {
    if (!Number.isNaN(focus)) document.getElementById(`chunk-${focus}`)?.scrollIntoView({ block: "center" });
  }, [focus, chunks.data]);

  async function download() {
    const resp = await authFetch(`/api/v1/documents/${id}/download`);
    if (!resp.ok) return;
    const a = document.createElement("a");
    a.href = URL.createObjectURL(await resp.blob());
    a.download = doc.data?.filename ?? "download";
    a.click();
  }

  if (deleted.data) return <Alert color="orange" title="Document deleted" role="alert">This document was deleted (in another tab or session).</Alert>;
  if (doc.isLoading) return <Loading />;
  if (doc.error) return <ErrorState error={doc.error} />;
  const d = doc.data! as ContractDocument;
  const items = (chunks.data?.items ?? []) as ContractChunk[];
  const boxes = items.flatMap((c) => c.boxes ?? []);
  const isImage = type.startsWith("image/");
  return (
    <Stack>
      <Group wrap="nowrap" align="start">
        <Thumb id={d.id} alt={`Thumbnail of ${d.filename}`} />
        <Title order={1} style={{ wordBreak: "break-all" }}>{d.filename}</Title>
      </Group>
      <Group><StatusBadge status={d.status} stage={d.stage} /><Text size="sm">{d.collection}</Text></Group>
      {d.status === "failed" && <ErrorState error={Object.assign(new Error(d.error ?? "failed"), { code: d.error_code })} />}
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <Text size="sm">Type: {d.content_type}</Text><Text size="sm">Size: {d.size_bytes.toLocaleString()} bytes</Text>
        <Text size="sm">Pages: {d.page_count ?? "–"}</Text><Text size="sm">Chunks: {d.chunk_count}</Text>
        <Text size="sm">Stage: {d.stage}</Text><Text size="sm">Uploaded: {new Date(d.created_at).toLocaleString()}</Text>
        <Text size="sm">Timings: {Object.entries(d.timings).map(([k, v]) => `${k} ${String(v)}`).join(", ") || "–"}</Text>
      </SimpleGrid>
      <Group>
        <Button variant="light" onClick={download}>Download original</Button>
        {previewable && <Button variant="light" onClick={() => setPreview((p) => !p)}>{preview ? "Hide preview" : "Preview"}</Button>}
      </Group>
      {preview && original.isLoading && <Loading label="Loading preview…" />}
      {preview && original.data && (type === "application/pdf"
        ? <iframe title={`Preview of ${d.filename}`} src={original.data} style={{ width: "100%", height: 600, border: 0 }} />
        : boxes.length > 0
          ? <OcrOverlay src={original.data} alt={`Preview of ${d.filename}`} boxes={boxes}
              width={d.image?.width ?? 1} height={d.image?.height ?? 1} />
          : <img alt={`Preview of ${d.filename}`} src={original.data} style={{ maxWidth: "100%" }} />)}
      {isImage && boxes.length > 0 && !preview && <Text size="sm" c="dimmed">Open the preview to see the {boxes.length} OCR text boxes drawn over the image.</Text>}
      <ImageMeta doc={d} />
      <DocumentLabels id={d.id} />
      {isImage && <SimilarImages id={d.id} />}
      <Title order={2}>Chunks</Title>
      {chunks.isLoading && <Loading />}
      {chunks.error && <ErrorState error={chunks.error} />}
      {chunks.data && chunks.data.items.length === 0 && <Text c="dimmed">No chunks {d.status === "ready" ? "" : "yet"}.</Text>}
      {items.map((c) => (
        <Paper key={c.id} id={`chunk-${c.id}`} withBorder p="sm" className="chunk"
          style={c.id === focus ? { outline: "3px solid var(--mantine-color-yellow-6)" } : undefined}
          aria-current={c.id === focus ? "true" : undefined}>
          <Group gap="xs"><Text size="xs" c="dimmed">#{c.ordinal}{c.page != null ? ` · page ${c.page}` : ""}</Text>
            {c.source && c.source !== "text" && <Badge size="xs" variant="outline">{c.source === "ocr" ? `OCR${c.boxes ? ` · ${c.boxes.length} boxes` : ""}` : "image description"}</Badge>}</Group>
          <Text size="sm" style={{ whiteSpace: "pre-wrap" }}>{c.text}</Text>
        </Paper>
      ))}
    </Stack>
  );
}
