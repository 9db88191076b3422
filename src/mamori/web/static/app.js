// Mamori dashboard: small progressive enhancements; every page works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Findings list: "select all on this page" and a bulk-action button enabled by a selection.
  for (const form of document.querySelectorAll("form.bulk")) {
    const all = form.querySelector(".pick-all");
    const picks = () => Array.from(form.querySelectorAll("input.pick"));
    const button = form.querySelector("button.apply");
    const refresh = () => {
      const chosen = picks().filter((p) => p.checked).length;
      if (button) {
        button.disabled = chosen === 0;
        button.textContent = chosen ? `Apply to ${chosen}` : "Apply";
      }
      if (all) {
        all.checked = chosen > 0 && chosen === picks().length;
        all.indeterminate = chosen > 0 && chosen < picks().length;
      }
    };
    if (all) {
      all.addEventListener("change", () => {
        for (const p of picks()) p.checked = all.checked;
        refresh();
      });
    }
    form.addEventListener("change", (event) => {
      if (event.target.classList.contains("pick")) refresh();
    });
    refresh();
  }

  // Graphs: hovering a node highlights the edges that touch it.
  for (const svg of document.querySelectorAll("svg.graph")) {
    svg.addEventListener("mouseover", (event) => {
      const node = event.target.closest("g.node");
      svg.classList.toggle("focus", Boolean(node));
      for (const g of svg.querySelectorAll("g.node")) g.classList.toggle("on", g === node);
    });
  }
});
