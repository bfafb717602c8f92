import { render } from "@testing-library/react";
import { MantineProvider } from "@mantine/core";

export function renderUI(ui: React.ReactElement) {
  return render(<MantineProvider>{ui}</MantineProvider>);
}
