// Reactions: a row of emoji buttons under the chat; every reaction (ours and others') floats up
// over the player for a moment. Stored reactions come back later through replay().

import { h } from "./dom.js";
import { haptic } from "./telegram.js";

const FLOAT_MS = 2200;
const MAX_FLOATING = 24;

export class Reactions {
  constructor(root, { send }) {
    this.layer = root.querySelector("#reactions-float");
    this.send = send;
    this.seen = new Set(); // ids shown live (sent or received): never replayed
    for (const button of root.querySelectorAll("#reactions-bar [data-emoji]")) {
      button.addEventListener("click", () => this.react(button.dataset.emoji));
    }
  }

  async react(emoji) {
    haptic("light");
    try {
      const { reaction } = await this.send(emoji);
      this.show(reaction);
    } catch (error) {
      console.warn("vmeste: reaction not sent", error);
    }
  }

  /** A live reaction (ours by ack, anyone's by broadcast): float it once per reaction id. */
  show(reaction) {
    if (reaction?.id !== undefined) {
      if (this.seen.has(reaction.id)) return;
      this.seen.add(reaction.id);
    }
    this.float(reaction.emoji, { replay: false });
  }

  /** A stored reaction reached by the playhead; skipped if it was already shown live. */
  replay(reaction) {
    if (this.seen.has(reaction.id)) return;
    this.float(reaction.emoji, { replay: true });
  }

  float(emoji, { replay }) {
    if (this.layer.children.length >= MAX_FLOATING) this.layer.firstElementChild.remove();
    const bubble = h(
      "span",
      {
        class: `reactions-float__item${replay ? " reactions-float__item--replay" : ""}`,
        style: { "--x": `${10 + Math.random() * 80}%`, "--drift": `${Math.round((Math.random() - 0.5) * 60)}px` },
      },
      emoji,
    );
    this.layer.append(bubble);
    setTimeout(() => bubble.remove(), FLOAT_MS);
  }
}
