// What a role may do in a room, as the server says: every Room payload carries
//   permissions: {host|moderator|member: {actions: [Action...], actsOn: [role...]}}
// (the server's one permission table, with the control mode already applied). The client never
// re-derives it; a room without `permissions` allows nothing.

export const Action = Object.freeze({
  PLAYBACK: "playback", // play, pause, seek, rate, load
  QUEUE: "queue", // add, remove, reorder, next
  VOTE_SKIP: "vote_skip",
  CHAT: "chat",
  REACT: "react",
  INVITE: "invite",
  KICK: "kick",
  DELETE_MESSAGE: "delete_message",
  SLOW_MODE: "slow_mode",
  MODERATORS: "moderators",
  HANDOVER: "handover",
  SETTINGS: "settings", // title, visibility, control mode
  CLOSE: "close",
});

function entry(room, role) {
  return (role && room?.permissions?.[role]) || null;
}

/** Whether `role` may take `action` in `room` now. */
export function can(room, role, action) {
  return Boolean(entry(room, role)?.actions?.includes(action));
}

/** Whether `role` outranks `targetRole` (may kick them, delete their messages). Never the host. */
export function actsOn(room, role, targetRole) {
  if (targetRole === "host") return false;
  return Boolean(entry(room, role)?.actsOn?.includes(targetRole ?? "member"));
}
