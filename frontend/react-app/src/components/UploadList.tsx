import { Badge, Group, Progress, Stack, Text } from "@mantine/core";

export interface UploadItem {
  key: string; name: string; progress: number;
  state: "uploading" | "done" | "error";
  outcome?: "created" | "duplicate" | "reingested";
  error?: string; documentId?: string;
}

const OUTCOME_COLOR = { created: "green", duplicate: "gray", reingested: "blue" } as const;

/** One progress bar per file being uploaded, then its outcome. */
export function UploadList({ items }: { items: UploadItem[] }) {
  if (!items.length) return null;
  return (
    <Stack gap="xs" aria-label="Uploads" role="list">
      {items.map((it) => (
        <div key={it.key} role="listitem">
          <Group justify="space-between" wrap="nowrap">
            <Text size="sm" truncate>{it.name}</Text>
            {it.state === "done" && it.outcome && <Badge color={OUTCOME_COLOR[it.outcome]}>{it.outcome}</Badge>}
            {it.state === "error" && <Badge color="red">failed</Badge>}
            {it.state === "uploading" && <Text size="xs">{Math.round(it.progress * 100)}%</Text>}
          </Group>
          <Progress value={it.progress * 100} color={it.state === "error" ? "red" : undefined}
            aria-label={`Upload of ${it.name}`} />
          {it.error && <Text size="xs" c="red.9">{it.error}</Text>}
        </div>
      ))}
    </Stack>
  );
}
