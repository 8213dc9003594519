// Renders Markdown safely: marked turns it into HTML, DOMPurify removes anything executable.
"use strict";
window.gennaiMarkdown = {
  render(element, source) {
    const html = window.marked.parse(source, { gfm: true, breaks: true });
    element.innerHTML = window.DOMPurify.sanitize(html, { USE_PROFILES: { html: true } });
    element.querySelectorAll("a[href]").forEach((link) => {
      link.setAttribute("rel", "noopener noreferrer");
      link.setAttribute("target", "_blank");
    });
  },
  renderAll(root) {
    root.querySelectorAll(".md").forEach((element) => {
      const source = element.textContent;
      element.dataset.source = source;
      this.render(element, source);
    });
  },
};
document.addEventListener("DOMContentLoaded", () => window.gennaiMarkdown.renderAll(document));
