import { useState } from "react";
import { Badge, Button, CloseButton, Group, Stack, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { addLabel, documentLabels, removeLabel } from "../api/contract";
import { ErrorState, Loading } from "./States";

/** A document's labels: model labels with their confidence, human ones, add and remove.
 * Hidden when the labels API answers 404 (not on this server yet). */
export function DocumentLabels({ id }: { id: string }) {
  const qc = useQueryClient();
  const [kind, setKind] = useState("topic");
  const [value, setValue] = useState("");
  const labels = useQuery({ queryKey: ["labels", id], queryFn: () => documentLabels(id) });
  const refresh = () => { void qc.invalidateQueries({ queryKey: ["labels", id] }); void qc.invalidateQueries({ queryKey: ["label-counts"] }); };
  const add = useMutation({ mutationFn: () => addLabel(id, kind.trim(), value.trim()), onSuccess: () => { setValue(""); refresh(); } });
  const remove = useMutation({ mutationFn: (labelId: number) => removeLabel(id, labelId), onSuccess: refresh });
  if (labels.isLoading) return <Loading label="Loading labels…" />;
  if (labels.error) return <ErrorState error={labels.error} />;
  if (!labels.data) return null;
  const active = labels.data.labels.filter((l) => l.status === "active");
  return (
    <Stack gap="xs" className="labels">
      <Title order={2}>Labels</Title>
      {active.length === 0 && <Text c="dimmed">No labels yet.</Text>}
      <Group gap="xs">
        {active.map((l) => (
          <Badge key={l.id} size="lg" variant={l.source === "human" ? "filled" : "outline"} tt="none" className="label"
            rightSection={<CloseButton size="xs" aria-label={`Remove label ${l.kind}: ${l.value}`} onClick={() => remove.mutate(l.id)} />}>
            {l.kind}: {l.value}{l.source === "model" ? ` · ${Math.round(l.confidence * 100)}%` : ""}
          </Badge>
        ))}
      </Group>
      {labels.data.labelers.length > 0 && (
        <Text size="xs" c="dimmed">
          {labels.data.labelers.map((l) => `${l.name}: ${l.status}${l.ms != null ? ` (${Math.round(l.ms)} ms)` : ""}${l.error ? ` — ${l.error}` : ""}`).join(" · ")}
        </Text>)}
      <form onSubmit={(e) => { e.preventDefault(); if (kind.trim() && value.trim()) add.mutate(); }}>
        <Group align="end" gap="xs">
          <TextInput label="Kind" value={kind} onChange={(e) => setKind(e.currentTarget.value)} w={120} />
          <TextInput label="New label" value={value} onChange={(e) => setValue(e.currentTarget.value)} w={200} />
          <Button type="submit" variant="light" loading={add.isPending}>Add label</Button>
        </Group>
      </form>
      {(add.error || remove.error) && <ErrorState error={add.error ?? remove.error} />}
    </Stack>
  );
}
