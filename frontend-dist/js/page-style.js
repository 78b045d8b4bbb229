// A page's own stylesheet, linked when the page is first shown (the first
// visit loads only app.css). Resolves once it applies.
const linked = new Map();

export function pageStyle(name) {
  if (!linked.has(name)) {
    linked.set(name, new Promise((resolve) => {
      const link = document.createElement('link');
      link.rel = 'stylesheet';
      link.href = `/css/${name}.css`;
      link.addEventListener('load', () => resolve());
      link.addEventListener('error', () => resolve()); // unstyled beats blank
      document.head.append(link);
    }));
  }
  return linked.get(name);
}
