/**
 * Deterministic panel placement on Grafana's 24-column grid: each panel gets the next `id` and
 * a `gridPos`, rows wrap, and a section row spans the full width. Grafana assigns neither ids
 * nor positions reliably for generated JSON, and ids are what alert rules and links refer to.
 */

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface PanelGrid {
  /** Next panel slot of width `w` (default half width) and height `h`. */
  place(w?: number, h?: number): { id: number; gridPos: GridPos };
  /** A full-width section row; following panels start below it. */
  row(): { id: number; gridPos: GridPos };
}

export function createPanelGrid(): PanelGrid {
  let id = 0;
  let x = 0;
  let y = 0;
  let lineHeight = 0;
  const newline = () => {
    y += lineHeight;
    x = 0;
    lineHeight = 0;
  };
  return {
    place(w = 12, h = 8) {
      if (x + w > 24) newline();
      const gridPos = { x, y, w, h };
      x += w;
      lineHeight = Math.max(lineHeight, h);
      id += 1;
      return { id, gridPos };
    },
    row() {
      if (x > 0) newline();
      const gridPos = { x: 0, y, w: 24, h: 1 };
      y += 1;
      id += 1;
      return { id, gridPos };
    },
  };
}
