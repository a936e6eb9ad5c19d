// The Settings tab: the host's room settings (title, visibility, control mode), slow mode for
// whoever may set it, and closing the room. Shown when my role has any of those actions.

import { messageFor } from "../errors.js";
import { t } from "../i18n.js";
import { Action } from "../permissions.js";
import { confirmAction, haptic } from "../telegram.js";
import { toast } from "../ui.js";

export class HostControls {
  constructor(view) {
    this.view = view;
    this.$ = view.$;
    this.form = view.$("#room-settings");
    this.bind();
  }

  render() {
    const { view, form } = this;
    const settings = view.can(Action.SETTINGS);
    const slowMode = view.can(Action.SLOW_MODE);
    const close = view.can(Action.CLOSE);
    const tab = this.$("#room-tab-settings");
    tab.hidden = !(settings || slowMode || close);
    if (tab.hidden && tab.getAttribute("aria-selected") === "true") this.$("#room-tab-chat").click();
    this.$("#room-close").closest(".card").hidden = !close;
    form.hidden = !(settings || slowMode);
    if (form.contains(document.activeElement)) return; // do not overwrite what is being edited
    const { room } = view;
    form.elements.title.value = room.title;
    form.elements.visibility.value = room.visibility;
    form.elements.controlMode.value = room.controlMode;
    form.elements.slowModeSeconds.value = String(room.slowModeSeconds ?? 0);
    for (const element of form.querySelectorAll("input, select")) {
      element.disabled = element.name === "slowModeSeconds" ? !slowMode : !settings;
    }
  }

  bind() {
    const { form } = this;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const { view } = this;
      this.$("#settings-error").textContent = "";
      const body = {};
      if (view.can(Action.SLOW_MODE)) body.slowModeSeconds = Number(form.elements.slowModeSeconds.value);
      if (view.can(Action.SETTINGS)) {
        body.title = form.elements.title.value.trim();
        body.visibility = form.elements.visibility.value;
        body.controlMode = form.elements.controlMode.value;
      }
      try {
        const { room } = await view.api.patch(`/api/rooms/${view.room.id}`, body);
        view.room = { ...view.room, ...room };
        document.activeElement?.blur();
        view.renderAll();
        haptic("success");
        toast(t("saved"));
      } catch (error) {
        haptic("error");
        this.$("#settings-error").textContent = messageFor(error);
      }
    });
    this.$("#room-close").addEventListener("click", async () => {
      if (!(await confirmAction(t("closeRoomConfirm")))) return;
      const result = await this.view.rest("POST", `/api/rooms/${this.view.room.id}/close`);
      if (result) this.view.exit(t("roomClosed"), { unwatch: false });
    });
  }
}
