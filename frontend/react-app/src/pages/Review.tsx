import { useRef, useState } from "react";
import { Link } from "react-router-dom";
import { Anchor, Button, Group, Kbd, Pagination, Stack, Table, Text, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { acceptLabel, rejectLabel, reviewQueue, type ReviewItem } from "../api/contract";
import { Empty, ErrorState, Loading } from "../components/States";

const PAGE = 25;

/** The label review queue: model labels whose confidence is uncertain. Keyboard: ↑/↓ move
 * between rows, A accepts, R rejects (the buttons work too). */
export function Review() {
  const qc = useQueryClient();
  const [page, setPage] = useState(1);
  const rows = useRef<(HTMLTableRowElement | null)[]>([]);
  const queue = useQuery({ queryKey: ["review", page], queryFn: () => reviewQueue(PAGE, (page - 1) * PAGE) });
  const decide = useMutation({
    mutationFn: ({ item, accept }: { item: ReviewItem; accept: boolean }) => (accept ? acceptLabel(item.id) : rejectLabel(item.id)),
    onSuccess: (_l, { item }) => {
      qc.setQueryData<{ items: ReviewItem[]; total: number } | null>(["review", page], (q) =>
        q ? { items: q.items.filter((i) => i.id !== item.id), total: q.total - 1 } : q);
      void qc.invalidateQueries({ queryKey: ["labels", item.document_id] });
    },
  });
  function onKey(e: React.KeyboardEvent, item: ReviewItem, i: number) {
    const key = e.key.toLowerCase();
    if (key === "a" || key === "r") { e.preventDefault(); decide.mutate({ item, accept: key === "a" }); rows.current[i + 1]?.focus() ?? rows.current[i - 1]?.focus(); }
    if (e.key === "ArrowDown") { e.preventDefault(); rows.current[i + 1]?.focus(); }
    if (e.key === "ArrowUp") { e.preventDefault(); rows.current[i - 1]?.focus(); }
  }
  return (
    <Stack>
      <Title order={1}>Review labels</Title>
      {queue.isLoading && <Loading />}
      {queue.error && <ErrorState error={queue.error} />}
      {queue.data === null && <Empty>Label review is not available on this server yet (the labels API is not installed).</Empty>}
      {queue.data && queue.data.items.length === 0 && <Empty>Nothing to review: no model label is in the uncertain range.</Empty>}
      {queue.data && queue.data.items.length > 0 && <>
        <Text size="sm">{queue.data.total} labels to review. Focus a row, then <Kbd>A</Kbd> accepts, <Kbd>R</Kbd> rejects, <Kbd>↑</Kbd>/<Kbd>↓</Kbd> move.</Text>
        <Table.ScrollContainer minWidth={560}>
          <Table aria-label="Labels to review" highlightOnHover>
            <Table.Thead><Table.Tr><Table.Th>Document</Table.Th><Table.Th>Label</Table.Th><Table.Th>Confidence</Table.Th><Table.Th>Model</Table.Th><Table.Th>Decision</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {queue.data.items.map((item, i) => (
                <Table.Tr key={item.id} tabIndex={0} ref={(el) => { rows.current[i] = el; }} onKeyDown={(e) => onKey(e, item, i)}
                  aria-label={`${item.kind}: ${item.value} on ${item.filename}`} className="review-row">
                  <Table.Td><Anchor component={Link} to={`/documents/${item.document_id}`}>{item.filename}</Anchor>
                    <Text size="xs" c="dimmed">{item.collection}</Text></Table.Td>
                  <Table.Td>{item.kind}: <b>{item.value}</b></Table.Td>
                  <Table.Td>{Math.round(item.confidence * 100)}%</Table.Td>
                  <Table.Td><Text size="xs">{item.model_name ?? "–"}</Text></Table.Td>
                  <Table.Td><Group gap="xs" wrap="nowrap">
                    <Button size="xs" variant="light" onClick={() => decide.mutate({ item, accept: true })} aria-label={`Accept ${item.kind}: ${item.value} on ${item.filename}`}>Accept</Button>
                    <Button size="xs" variant="light" color="red" onClick={() => decide.mutate({ item, accept: false })} aria-label={`Reject ${item.kind}: ${item.value} on ${item.filename}`}>Reject</Button>
                  </Group></Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        {decide.error && <ErrorState error={decide.error} />}
        {queue.data.total > PAGE && <Pagination total={Math.ceil(queue.data.total / PAGE)} value={page} onChange={setPage} aria-label="Pages" />}
      </>}
    </Stack>
  );
}
