import { useState } from "react";
import { Badge, Button, Group, Paper, SegmentedControl, Stack, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../api/client";
import { Empty, ErrorState, Loading } from "../components/States";

function Shares({ collection }: { collection: Schemas["CollectionOut"] }) {
  const qc = useQueryClient();
  const key = ["shares", collection.id];
  const path = { collection_id: collection.id };
  const [email, setEmail] = useState("");
  const [permission, setPermission] = useState<"read" | "write">("read");
  const shares = useQuery({ queryKey: key, queryFn: () => unwrap(api.GET("/api/v1/collections/{collection_id}/shares", { params: { path } })) });
  const share = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/collections/{collection_id}/shares", { params: { path }, body: { email, permission } })),
    onSuccess: () => { setEmail(""); void qc.invalidateQueries({ queryKey: key }); },
  });
  const unshare = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE("/api/v1/collections/{collection_id}/shares/{share_id}", { params: { path: { ...path, share_id: id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: key }),
  });
  return (
    <Stack gap="xs">
      {shares.error && <ErrorState error={shares.error} />}
      {shares.data?.length === 0 && <Text size="sm" c="dimmed">Not shared.</Text>}
      {shares.data?.map((s) => (
        <Group key={s.id} gap="xs">
          <Text size="sm">{s.email}</Text><Badge variant="light">{s.permission}</Badge>
          <Button size="xs" variant="subtle" color="red" onClick={() => unshare.mutate(s.id)} aria-label={`Unshare ${s.email}`}>Unshare</Button>
        </Group>
      ))}
      <form onSubmit={(e) => { e.preventDefault(); share.mutate(); }}>
        <Group align="end" gap="xs">
          <TextInput label={`Share ${collection.name} with (email)`} type="email" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
          <SegmentedControl aria-label="Permission" value={permission} onChange={(v) => setPermission(v as "read" | "write")} data={["read", "write"]} />
          <Button type="submit" size="sm" loading={share.isPending}>Share</Button>
        </Group>
      </form>
      {share.error && <ErrorState error={share.error} />}
    </Stack>
  );
}

export function Collections() {
  const qc = useQueryClient();
  const [name, setName] = useState("");
  const collections = useQuery({ queryKey: ["collections"], queryFn: () => unwrap(api.GET("/api/v1/collections")) });
  const create = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/collections", { body: { name } })),
    onSuccess: () => { setName(""); void qc.invalidateQueries({ queryKey: ["collections"] }); },
  });
  return (
    <Stack>
      <Title order={1}>Collections</Title>
      <form onSubmit={(e) => { e.preventDefault(); create.mutate(); }}>
        <Group align="end">
          <TextInput label="New collection" required value={name} onChange={(e) => setName(e.currentTarget.value)} />
          <Button type="submit" loading={create.isPending}>Create</Button>
        </Group>
      </form>
      {create.error && <ErrorState error={create.error} />}
      {collections.isLoading && <Loading />}
      {collections.error && <ErrorState error={collections.error} />}
      {collections.data?.length === 0 && <Empty>No collections yet: uploading creates one.</Empty>}
      {collections.data?.map((c) => (
        <Paper key={c.id} withBorder p="sm">
          <Group justify="space-between">
            <Title order={2} size="h4">{c.name}</Title>
            <Text size="sm" c="dimmed">{c.chunk_count} chunks · {c.permission === "owner" ? "yours" : `${c.permission}, shared by ${c.owner_email}`}</Text>
          </Group>
          {c.permission === "owner" && <Shares collection={c} />}
        </Paper>
      ))}
    </Stack>
  );
}
