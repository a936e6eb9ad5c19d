// What the player stand-ins (youtube.js, vimeo.js, twitch.js) share; the tests serve it in
// front of each of them (tests/browser/test_players.py, serve_fake_sdks).
//
// window.__fakePlayerConfig: the test's settings (media: the local MP4 every fake plays;
// autoplayBlocked: refuse playback until the user taps or presses a key, sticky as in Chrome).
// window.__fakePlayerCalls: every API call, as [method, ...args].
window.__fakePlayer ??= (() => {
  const config = window.__fakePlayerConfig ?? {};
  let gestured = !config.autoplayBlocked;
  for (const type of ["pointerdown", "keydown"]) {
    window.addEventListener(type, (event) => (gestured ||= event.isTrusted), true);
  }
  return {
    config,
    calls: (window.__fakePlayerCalls ??= []),
    // The real players live in an iframe: their events arrive asynchronously.
    later: (fn) => setTimeout(fn, 0),
    gestured: () => gestured,
  };
})();
