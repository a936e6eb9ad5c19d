// The page's configuration and UI strings, both rendered by the server into JSON script tags
// (templates/base.html), so every text the scripts show comes from the gettext catalogue.

function readJson(id) {
  const element = document.getElementById(id);
  if (!element) return {};
  try {
    return JSON.parse(element.textContent);
  } catch {
    return {};
  }
}

/** {locale, publicUrl, botUsername, telegramSignIn} from webapp/views/pages.py. */
export const config = readJson("vmeste-config");

const strings = readJson("vmeste-strings");

/**
 * The localized string `key` with `{name}` placeholders replaced by `params.name`.
 * An unknown key is a programming error: it is logged and the key itself is shown.
 */
export function t(key, params = {}) {
  const template = strings[key];
  if (template === undefined) {
    console.error(`vmeste: no UI string "${key}" in #vmeste-strings`);
    return key;
  }
  return template.replace(/\{(\w+)\}/g, (match, name) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : match,
  );
}

/**
 * Fill `element` with the string `key`, putting DOM nodes (or text) in place of placeholders,
 * e.g. a <strong> with a user's name. Text goes in as text nodes, never as HTML.
 */
export function renderInto(element, key, params = {}) {
  const template = strings[key] ?? key;
  const nodes = [];
  let last = 0;
  for (const match of template.matchAll(/\{(\w+)\}/g)) {
    nodes.push(template.slice(last, match.index));
    const value = params[match[1]];
    nodes.push(value instanceof Node ? value : String(value ?? match[0]));
    last = match.index + match[0].length;
  }
  nodes.push(template.slice(last));
  element.replaceChildren(...nodes.filter((node) => node !== ""));
}
