import { Badge, Stack, Table, Title, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { ErrorState, Loading } from "../components/States";

type Ready = { status: string; checks?: Record<string, { status?: string; ok?: boolean; code?: string; message?: string; [k: string]: unknown }> };

export function Status() {
  const ready = useQuery({
    queryKey: ["ready"], refetchInterval: 10_000,
    queryFn: async () => (await (await fetch("/api/health/ready")).json()) as Ready,
  });
  if (ready.isLoading) return <Loading />;
  if (ready.error) return <ErrorState error={ready.error} />;
  const body = ready.data!;
  const checks = Object.entries(body.checks ?? {});
  return (
    <Stack>
      <Title order={1}>Status</Title>
      <Text>Overall: <Badge color={body.status === "ready" ? "green" : "orange"}>{body.status}</Badge></Text>
      <Table.ScrollContainer minWidth={360}>
        <Table>
          <Table.Thead><Table.Tr><Table.Th>Check</Table.Th><Table.Th>State</Table.Th><Table.Th>Details</Table.Th></Table.Tr></Table.Thead>
          <Table.Tbody>
            {checks.map(([name, c]) => {
              const state = String(c.status ?? (c.ok === false ? "down" : "ok"));
              const { status: _s, ok: _o, ...rest } = c;
              return (
                <Table.Tr key={name}>
                  <Table.Td>{name}</Table.Td>
                  <Table.Td><Badge color={state === "ok" ? "green" : "orange"}>{state}</Badge></Table.Td>
                  <Table.Td><Text size="sm">{Object.entries(rest).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`).join(", ")}</Text></Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}
