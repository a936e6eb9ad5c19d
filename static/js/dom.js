// One DOM helper for the screens: h(tag, attrs, ...children) builds an element.
//
//   h("button", { type: "button", class: "chip", onclick: handler }, t("kick"))
//
// attrs: `class`; `dataset` (an object); `style` (CSS custom properties and the like, set with
// setProperty); `on<event>` functions become listeners; names the element has as a property
// (textContent, hidden, disabled, title, type, src...) are set as properties; anything else
// (aria-*, role...) as an attribute. null, undefined and false leave an attribute out.
// children: nodes, or strings (always as text, never as HTML); null/false are skipped and
// arrays are flattened.

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name === "style") {
      for (const [property, v] of Object.entries(value)) element.style.setProperty(property, v);
    } else if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name in element && !name.includes("-")) element[name] = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(...flatten(children));
  return element;
}

function flatten(children) {
  return children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false);
}
