import { Anchor, Button, Group, Image, Paper, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { Link } from "react-router-dom";
import { useMutation, useQuery } from "@tanstack/react-query";
import { imageAnalysis, nearDuplicates, similarImages, thumbnail, type ContractDocument, type OcrBox } from "../api/contract";
import { Empty, ErrorState } from "./States";

/** A document's thumbnail (images and PDFs); nothing when it has none. */
export function Thumb({ id, alt, size = 96 }: { id: string; alt: string; size?: number }) {
  const thumb = useQuery({ queryKey: ["thumbnail", id], queryFn: () => thumbnail(id), staleTime: Infinity, retry: false });
  if (!thumb.data) return null;
  return <Image src={thumb.data} alt={alt} w={size} h={size} fit="contain" radius="sm" className="thumb" />;
}
export function useHasThumb(id: string): boolean {
  return !!useQuery({ queryKey: ["thumbnail", id], queryFn: () => thumbnail(id), staleTime: Infinity, retry: false }).data;
}

/** Image metadata (size, format, camera, OCR) and the vision model's analysis, when present. */
export function ImageMeta({ doc }: { doc: ContractDocument }) {
  const isImage = doc.content_type.startsWith("image/");
  const analysis = useQuery({ queryKey: ["image-analysis", doc.id], queryFn: () => imageAnalysis(doc.id), enabled: isImage, retry: false });
  const img = doc.image;
  if (!img && !analysis.data) return null;
  return (
    <Stack gap={4} className="image-meta">
      <Title order={2}>Image</Title>
      {img && <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <Text size="sm">Dimensions: {img.width} × {img.height} ({img.format})</Text>
        <Text size="sm">Camera: {String(img.exif?.camera ?? "–")}</Text>
        <Text size="sm">Taken: {String(img.exif?.taken_at ?? "–")}</Text>
        <Text size="sm">OCR: {img.ocr ? `${img.ocr.engine}, ${img.ocr.lines} lines in ${Math.round(img.ocr.ms)} ms` : "–"}</Text>
        {img.gps && <Text size="sm">Location: {img.gps.lat.toFixed(5)}, {img.gps.lon.toFixed(5)}</Text>}
      </SimpleGrid>}
      {analysis.error && <ErrorState error={analysis.error} />}
      {analysis.data && <>
        {analysis.data.description && <Text size="sm">Description: {analysis.data.description}</Text>}
        <Text size="sm">Objects: {analysis.data.objects.map((o) => `${o.value} ${Math.round(o.confidence * 100)}%`).join(", ") || "–"}</Text>
        <Text size="sm">NSFW score: {analysis.data.nsfw == null ? "–" : analysis.data.nsfw.toFixed(2)} · model {analysis.data.model}</Text>
      </>}
    </Stack>
  );
}

/** The image with its OCR boxes drawn over it (pixel coordinates of the original). */
export function OcrOverlay({ src, alt, width, height, boxes }: { src: string; alt: string; width: number; height: number; boxes: OcrBox[] }) {
  return (
    <div style={{ position: "relative", display: "inline-block", maxWidth: "100%" }} className="ocr-overlay">
      <img src={src} alt={alt} style={{ maxWidth: "100%", display: "block" }} />
      <svg viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" role="img" aria-label={`${boxes.length} text boxes found by OCR`}
        style={{ position: "absolute", inset: 0, width: "100%", height: "100%" }}>
        {boxes.map((b, i) => (
          <polygon key={i} points={b.box.map(([x, y]) => `${x},${y}`).join(" ")} fill="rgba(255,200,0,0.15)" stroke="#c92a2a" strokeWidth={Math.max(1, width / 400)}>
            <title>{`${b.text} (${Math.round(b.score * 100)}%)`}</title>
          </polygon>
        ))}
      </svg>
    </div>
  );
}

function DocGrid({ items }: { items: { document_id: string; filename: string; note: string }[] }) {
  return (
    <SimpleGrid cols={{ base: 2, sm: 4 }}>
      {items.map((h) => (
        <Paper key={h.document_id} withBorder p="xs" className="similar">
          <Thumb id={h.document_id} alt={h.filename} />
          <Anchor component={Link} to={`/documents/${h.document_id}`} size="sm" style={{ wordBreak: "break-all" }}>{h.filename}</Anchor>
          <Text size="xs" c="dimmed">{h.note}</Text>
        </Paper>
      ))}
    </SimpleGrid>
  );
}

/** Near-duplicates (perceptual hash) and "find similar" (image search); hidden when the
 * endpoints answer 404. */
export function SimilarImages({ id }: { id: string }) {
  const dups = useQuery({ queryKey: ["near-duplicates", id], queryFn: () => nearDuplicates(id), retry: false });
  const similar = useMutation({ mutationFn: () => similarImages(id) });
  return (
    <Stack gap="xs">
      {dups.error && <ErrorState error={dups.error} />}
      {dups.data && <>
        <Title order={2}>Near-duplicates</Title>
        {dups.data.length === 0 ? <Empty>No near-duplicates.</Empty>
          : <DocGrid items={dups.data.map((d) => ({ ...d, note: `${d.collection} · distance ${d.distance}` }))} />}
      </>}
      <Group><Button variant="light" onClick={() => similar.mutate()} loading={similar.isPending}>Find similar images</Button></Group>
      {similar.error && <ErrorState error={similar.error} />}
      {similar.isSuccess && similar.data === null && <Empty>Image search is not available on this server.</Empty>}
      {similar.data && (similar.data.length === 0 ? <Empty>No similar images.</Empty>
        : <><Title order={3}>Similar images</Title>
          <DocGrid items={similar.data.map((h) => ({ ...h, note: `score ${h.score.toFixed(3)}` }))} /></>)}
    </Stack>
  );
}
