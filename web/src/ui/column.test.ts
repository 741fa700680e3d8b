import { describe, expect, it } from "vitest";
import type { Virtualizer } from "@tanstack/react-virtual";
import { measuredHeight } from "./Column";

/** A column's virtualiser as `measuredHeight` sees it: cards by index, heights known by task id. */
function column(ids: number[], known: Record<number, number>) {
  return {
    options: { getItemKey: (index: number) => ids[index] },
    indexFromElement: (element: Element) => Number(element.getAttribute("data-index")),
    itemSizeCache: new Map(Object.entries(known).map(([id, size]) => [Number(id), size])),
  } as unknown as Virtualizer<HTMLDivElement, Element>;
}

/** A drawn card whose layout must not be read: doing so would force a layout in React's commit. */
function card(index: number): Element {
  return {
    getAttribute: (name: string) => (name === "data-index" ? String(index) : null),
    getBoundingClientRect: () => {
      throw new Error("the card's layout was read");
    },
  } as unknown as Element;
}

function observed(blockSize: number): ResizeObserverEntry {
  return { borderBoxSize: [{ blockSize, inlineSize: 280 }] } as unknown as ResizeObserverEntry;
}

describe("a card's height in a windowed column", () => {
  it("is the ResizeObserver's measure when it reports one", () => {
    expect(measuredHeight(card(0), observed(131.5), column([7], { 7: 90 }))).toBe(131.5);
  });

  it("is the height measured before when a card is drawn again, without reading its layout", () => {
    expect(measuredHeight(card(1), undefined, column([7, 9], { 9: 112 }))).toBe(112);
  });

  it("is the estimate when a card never measured is drawn, without reading its layout", () => {
    expect(measuredHeight(card(0), undefined, column([7], {}))).toBe(88);
  });
});
