import { screen } from "@testing-library/react";
import { renderUI } from "../test/render";
import { UploadList } from "./UploadList";

test("each file has its own progress bar and outcome", () => {
  renderUI(<UploadList items={[
    { key: "a", name: "a.pdf", progress: 0.4, state: "uploading" },
    { key: "b", name: "b.pdf", progress: 1, state: "done", outcome: "duplicate" },
    { key: "c", name: "c.pdf", progress: 1, state: "error", error: "file_too_large: too big" },
  ]} />);
  const bars = screen.getAllByRole("progressbar");
  expect(bars).toHaveLength(3);
  expect(bars[0].getAttribute("aria-valuenow")).toBe("40");
  expect(screen.getByText("40%")).toBeTruthy();
  expect(screen.getByText("duplicate")).toBeTruthy();
  expect(screen.getByText("file_too_large: too big")).toBeTruthy();
});

test("nothing is rendered without uploads", () => {
  const { container } = renderUI(<UploadList items={[]} />);
  expect(container.querySelector("[role=list]")).toBeNull();
});
