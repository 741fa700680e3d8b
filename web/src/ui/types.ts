//! Types shared by the board's components, kept apart so that child components need not import
//! the parents that render them.

/** What a key pressed on a focused card asks for (handled by the board, which knows the columns). */
export type CardKeyAction = "left" | "right" | "up" | "down" | "open" | "delete";
