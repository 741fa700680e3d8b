import { afterEach, describe, expect, it, vi } from "vitest";
import type { Virtualizer } from "@tanstack/react-virtual";
import { measuredHeight, observedRect } from "./Column";

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

describe("a windowed column's own height", () => {
  afterEach(() => vi.unstubAllGlobals());

  /** A column body that counts the reads of its size (each one a forced layout mid-commit). */
  function body(height: number) {
    const element = { reads: 0, clientWidth: 280, height };
    Object.defineProperty(element, "clientHeight", {
      get() {
        element.reads += 1;
        return element.height;
      },
    });
    return element;
  }

  it("is reported by the ResizeObserver after the layout, never read in the commit", () => {
    const observers: { callback: () => void; observed: unknown[]; disconnected: boolean }[] = [];
    vi.stubGlobal(
      "ResizeObserver",
      class {
        record: (typeof observers)[number];
        constructor(callback: () => void) {
          this.record = { callback, observed: [], disconnected: false };
          observers.push(this.record);
        }
        observe(target: unknown) {
          this.record.observed.push(target);
        }
        disconnect() {
          this.record.disconnected = true;
        }
      },
    );
    const element = body(642);
    const reports: { width: number; height: number }[] = [];
    const stop = observedRect({ scrollElement: element } as unknown as Virtualizer<HTMLDivElement, Element>, (rect) =>
      reports.push(rect),
    );
    expect(element.reads).toBe(0);
    expect(reports).toEqual([]);
    expect(observers[0].observed).toEqual([element]);
    observers[0].callback();
    element.height = 500;
    observers[0].callback();
    expect(reports).toEqual([
      { width: 280, height: 642 },
      { width: 280, height: 500 },
    ]);
    stop?.();
    expect(observers[0].disconnected).toBe(true);
  });

  it("is read at once where there is no ResizeObserver", () => {
    vi.stubGlobal("ResizeObserver", undefined);
    const element = body(642);
    const reports: unknown[] = [];
    observedRect({ scrollElement: element } as unknown as Virtualizer<HTMLDivElement, Element>, (rect) =>
      reports.push(rect),
    );
    expect(reports).toEqual([{ width: 280, height: 642 }]);
  });

  it("is not asked of a column not yet in the page", () => {
    const reports: unknown[] = [];
    const stop = observedRect({ scrollElement: null } as unknown as Virtualizer<HTMLDivElement, Element>, (rect) =>
      reports.push(rect),
    );
    expect(stop).toBeUndefined();
    expect(reports).toEqual([]);
  });
});
