import { useState } from "react";
import { Alert, Button, Code, Group, Stack, Table, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { Empty, ErrorState, Loading } from "../components/States";

export function Keys() {
  const qc = useQueryClient();
  const [name, setName] = useState("");
  const [created, setCreated] = useState<string | null>(null);
  const keys = useQuery({ queryKey: ["keys"], queryFn: () => unwrap(api.GET("/api/v1/api-keys")) });
  const create = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/api-keys", { body: { name } })),
    onSuccess: (k) => { setCreated(k.key); setName(""); void qc.invalidateQueries({ queryKey: ["keys"] }); },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE("/api/v1/api-keys/{key_id}", { params: { path: { key_id: id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["keys"] }),
  });
  return (
    <Stack>
      <Title order={1}>API keys</Title>
      <form onSubmit={(e) => { e.preventDefault(); create.mutate(); }}>
        <Group align="end">
          <TextInput label="New key name" required value={name} onChange={(e) => setName(e.currentTarget.value)} />
          <Button type="submit" loading={create.isPending}>Create key</Button>
        </Group>
      </form>
      {create.error && <ErrorState error={create.error} />}
      {created && (
        <Alert color="green" title="Your new key (shown once: copy it now)" withCloseButton closeButtonLabel="Dismiss" onClose={() => setCreated(null)}>
          <Code block>{created}</Code>
        </Alert>
      )}
      {keys.isLoading && <Loading />}
      {keys.error && <ErrorState error={keys.error} />}
      {keys.data && keys.data.length === 0 && <Empty>No API keys yet.</Empty>}
      {keys.data && keys.data.length > 0 && (
        <Table.ScrollContainer minWidth={400}>
          <Table>
            <Table.Thead><Table.Tr><Table.Th>Name</Table.Th><Table.Th>Prefix</Table.Th><Table.Th>Last used</Table.Th><Table.Th>Action</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {keys.data.map((k) => (
                <Table.Tr key={k.id}>
                  <Table.Td>{k.name}</Table.Td><Table.Td><Code>{k.prefix}</Code></Table.Td>
                  <Table.Td>{k.last_used_at ? new Date(k.last_used_at).toLocaleString() : "never"}</Table.Td>
                  <Table.Td>{k.revoked ? "revoked" : <Button size="xs" color="red" variant="light" onClick={() => revoke.mutate(k.id)}>Revoke {k.name}</Button>}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Stack>
  );
}
