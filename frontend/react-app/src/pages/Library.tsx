import { useState } from "react";
import { Link } from "react-router-dom";
import { Anchor, Button, Group, Modal, Pagination, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { Dropzone } from "@mantine/dropzone";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type DocumentOut } from "../api/client";
import { uploadFile } from "../api/upload";
import { labelCounts, labelQuery } from "../api/contract";
import { UploadList, type UploadItem } from "../components/UploadList";
import { Empty, ErrorState, Loading } from "../components/States";
import { StatusBadge } from "../components/StatusBadge";

const PAGE = 20;
type Status = "queued" | "processing" | "ready" | "failed";
type DocType = "pdf" | "word" | "text" | "html" | "image" | "other";
type SortKey = "created" | "updated" | "name" | "size" | "status";
export const TYPES: { value: DocType; label: string }[] = [
  { value: "pdf", label: "PDF" }, { value: "word", label: "Word" }, { value: "text", label: "Text & Markdown" },
  { value: "html", label: "HTML" }, { value: "image", label: "Images" }, { value: "other", label: "Other" }];
const SORTS: Record<string, { label: string; sort: SortKey; order: "asc" | "desc" }> = {
  newest: { label: "Newest first", sort: "created", order: "desc" },
  oldest: { label: "Oldest first", sort: "created", order: "asc" },
  name: { label: "Name A–Z", sort: "name", order: "asc" },
  "name-desc": { label: "Name Z–A", sort: "name", order: "desc" },
  largest: { label: "Largest first", sort: "size", order: "desc" },
  smallest: { label: "Smallest first", sort: "size", order: "asc" },
  status: { label: "Status", sort: "status", order: "asc" },
};

export function Library() {
  const qc = useQueryClient();
  const [collection, setCollection] = useState<string | null>(null);
  const [status, setStatus] = useState<Status | null>(null);
  const [type, setType] = useState<DocType | null>(null);
  const [sortBy, setSortBy] = useState("newest");
  const [label, setLabel] = useState<string | null>(null);
  const [page, setPage] = useState(1);
  const [target, setTarget] = useState("");
  const [uploads, setUploads] = useState<UploadItem[]>([]);
  const [confirm, setConfirm] = useState<DocumentOut | null>(null);

  const collections = useQuery({ queryKey: ["collections"], queryFn: () => unwrap(api.GET("/api/v1/collections")) });
  const labels = useQuery({ queryKey: ["label-counts"], queryFn: () => labelCounts(), retry: false });
  const { sort, order } = SORTS[sortBy] ?? SORTS.newest;
  const docs = useQuery({
    queryKey: ["documents", collection, status, page, type, sortBy, label],
    queryFn: () => unwrap(api.GET("/api/v1/documents", { params: { query: {
      collection: collection ?? undefined, status: status ?? undefined, type: type ?? undefined, sort, order,
      limit: PAGE, offset: (page - 1) * PAGE, ...labelQuery(label) } } })),
  });
  const reset = <T,>(set: (v: T) => void) => (v: T) => { set(v); setPage(1); };
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE("/api/v1/documents/{document_id}", { params: { path: { document_id: id } } })),
    onSuccess: () => { setConfirm(null); void qc.invalidateQueries({ queryKey: ["documents"] }); },
  });
  const retry = useMutation({
    mutationFn: (id: string) => unwrap(api.POST("/api/v1/documents/{document_id}/reingest", { params: { path: { document_id: id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["documents"] }),
  });

  function patch(key: string, p: Partial<UploadItem>) {
    setUploads((items) => items.map((it) => (it.key === key ? { ...it, ...p } : it)));
  }
  function onDrop(files: File[]) {
    const batch = files.map((f, i) => ({ key: `${Date.now()}-${i}-${f.name}`, name: f.name, progress: 0, state: "uploading" as const, file: f }));
    setUploads((items) => [...batch.map(({ file: _f, ...it }) => it), ...items].slice(0, 50));
    for (const it of batch) {
      uploadFile(it.file, target.trim() || null, (p) => patch(it.key, { progress: p }))
        .then((doc) => { patch(it.key, { state: "done", outcome: doc.outcome, documentId: doc.id }); void qc.invalidateQueries({ queryKey: ["documents"] }); void qc.invalidateQueries({ queryKey: ["collections"] }); })
        .catch((err: Error) => patch(it.key, { state: "error", error: err.message }));
    }
  }

  const total = docs.data?.total ?? 0;
  return (
    <Stack>
      <Title order={1}>Library</Title>
      <TextInput label="Upload into collection" description="Leave empty for your default collection"
        value={target} onChange={(e) => setTarget(e.currentTarget.value)} maw={360} />
      <Dropzone onDrop={onDrop} multiple inputProps={{ "aria-label": "Files to upload" }}>
        <Text ta="center" py="md">Drop files here, or click to pick (PDF, DOCX, text, images…)</Text>
      </Dropzone>
      <UploadList items={uploads} />
      <Group align="end">
        <Select label="Collection" placeholder="All collections" clearable value={collection}
          data={(collections.data ?? []).map((c) => c.name)} onChange={(v) => { setCollection(v); setPage(1); }} />
        <Select label="Status" placeholder="Any status" clearable value={status}
          data={["queued", "processing", "ready", "failed"]} onChange={reset((v) => setStatus(v as Status | null))} />
        <Select label="Type" placeholder="Any type" clearable value={type} data={TYPES}
          onChange={reset((v) => setType(v as DocType | null))} />
        {labels.data && labels.data.length > 0 && (
          <Select label="Label" placeholder="Any label" clearable searchable value={label}
            data={labels.data.map((l) => ({ value: `${l.kind}:${l.value}`, label: `${l.kind}: ${l.value} (${l.count})` }))}
            onChange={reset(setLabel)} />)}
        <Select label="Sort" value={sortBy} allowDeselect={false}
          data={Object.entries(SORTS).map(([value, o]) => ({ value, label: o.label }))}
          onChange={reset((v) => setSortBy(v ?? "newest"))} />
      </Group>
      {docs.isLoading && <Loading />}
      {docs.error && <ErrorState error={docs.error} />}
      {docs.data && docs.data.items.length === 0 && (collection || status || type || label
        ? <Empty>No documents match these filters.</Empty>
        : <Empty>No documents yet. Drop some files above.</Empty>)}
      {docs.data && docs.data.items.length > 0 && (
        <Table.ScrollContainer minWidth={560}>
          <Table striped aria-label="Documents">
            <Table.Thead><Table.Tr><Table.Th>File</Table.Th><Table.Th>Collection</Table.Th><Table.Th>Status</Table.Th><Table.Th>Size</Table.Th><Table.Th>Chunks</Table.Th><Table.Th>Actions</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {docs.data.items.map((d) => (
                <Table.Tr key={d.id} data-doc={d.filename}>
                  <Table.Td><Anchor component={Link} to={`/documents/${d.id}`}>{d.filename}</Anchor>
                    {d.status === "failed" && <Text size="xs" c="red.9" className="doc-error">{d.error_code}: {d.error}</Text>}</Table.Td>
                  <Table.Td>{d.collection}</Table.Td>
                  <Table.Td style={{ whiteSpace: "nowrap" }}><StatusBadge status={d.status} stage={d.stage} /></Table.Td>
                  <Table.Td style={{ whiteSpace: "nowrap" }}>{formatSize(d.size_bytes)}</Table.Td>
                  <Table.Td>{d.chunk_count}</Table.Td>
                  <Table.Td><Group gap="xs" wrap="nowrap">
                    {d.status === "failed" && <Button size="xs" variant="light" onClick={() => retry.mutate(d.id)}>Retry</Button>}
                    <Button size="xs" color="red" variant="light" onClick={() => setConfirm(d)} aria-label={`Delete ${d.filename}`}>Delete</Button>
                  </Group></Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {retry.error && <ErrorState error={retry.error} />}
      {total > PAGE && <Pagination total={Math.ceil(total / PAGE)} value={page} onChange={setPage} aria-label="Pages" />}
      <Modal opened={confirm !== null} onClose={() => setConfirm(null)} title="Delete document?" closeButtonProps={{ "aria-label": "Close" }}>
        <Text>Delete <b>{confirm?.filename}</b> and its chunks? This cannot be undone.</Text>
        {remove.error && <ErrorState error={remove.error} />}
        <Group justify="end" mt="md">
          <Button variant="default" onClick={() => setConfirm(null)}>Cancel</Button>
          <Button color="red" loading={remove.isPending} onClick={() => confirm && remove.mutate(confirm.id)}>Delete</Button>
        </Group>
      </Modal>
    </Stack>
  );
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
