//! The page's first script: a few KiB, loaded beside the app's and run as soon as it arrives, so a
//! first visit's board is asked of REST while the app's script still loads (`net/prefetch.ts`).

import { takeKeyFromUrl } from "./credentials";
import { prefetchBoard } from "./net/prefetch";

// A `?key=` link is remembered (and leaves the address bar) before the board is asked for with it.
takeKeyFromUrl();
prefetchBoard();
