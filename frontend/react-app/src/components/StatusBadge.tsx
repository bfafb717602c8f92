import { Badge } from "@mantine/core";

const COLOR: Record<string, string> = { queued: "gray", processing: "blue", ready: "green", failed: "red" };

export function StatusBadge({ status, stage }: { status: string; stage?: string }) {
  const label = status === "processing" && stage ? `${stage}` : status;
  return <Badge color={COLOR[status] ?? "gray"} variant="light" data-status={status} style={{ flexShrink: 0, overflow: "visible" }}>{label}</Badge>;
}
