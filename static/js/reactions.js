// Reactions: a row of emoji buttons under the chat; every reaction (ours and others') floats up
// over the player for a moment.

import { haptic } from "./telegram.js";

const FLOAT_MS = 2200;
const MAX_FLOATING = 24;

export class Reactions {
  constructor(root, { send }) {
    this.layer = root.querySelector("#reactions-float");
    this.send = send;
    this.seen = new Set();
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

  /** Float `reaction.emoji` over the player (once per reaction id). */
  show(reaction) {
    if (reaction?.id !== undefined) {
      if (this.seen.has(reaction.id)) return;
      this.seen.add(reaction.id);
    }
    if (this.layer.children.length >= MAX_FLOATING) this.layer.firstElementChild.remove();
    const bubble = document.createElement("span");
    bubble.className = "reactions-float__item";
    bubble.textContent = reaction.emoji;
    bubble.style.setProperty("--x", `${10 + Math.random() * 80}%`);
    bubble.style.setProperty("--drift", `${Math.round((Math.random() - 0.5) * 60)}px`);
    this.layer.append(bubble);
    setTimeout(() => bubble.remove(), FLOAT_MS);
  }
}
