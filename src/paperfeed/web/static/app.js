// Progressive enhancement only: every action also works as a plain form without scripts.
"use strict";

function csrfOf(form) {
  const field = form.querySelector('input[name="csrf_token"]');
  return field ? field.value : "";
}

// A form of the given class, posted in place: fetch with its CSRF token, a JSON answer
// handed to answered(form, response). The button is busy meanwhile, not disabled: a
// disabled button drops the keyboard focus to the page's top.
function postInPlace(formClass, buttonSelector, sendFields, answered) {
  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!form.classList || !form.classList.contains(formClass)) return;
    event.preventDefault();
    const button = form.querySelector(buttonSelector);
    if (button.getAttribute("aria-busy") === "true") return;
    button.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(form.getAttribute("action"), {
        method: "POST",
        headers: { "Accept": "application/json", "X-CSRF-Token": csrfOf(form) },
        body: sendFields ? new FormData(form) : undefined,
        credentials: "same-origin",
      });
      await answered(form, response);
    } finally {
      button.removeAttribute("aria-busy");
    }
  });
}

postInPlace("vote", "button.upvote", false, async (form, response) => {
  if (response.status === 401) {
    window.location = "/signin?next=" + encodeURIComponent(window.location.pathname + window.location.search);
    return;
  }
  if (!response.ok) return;
  const result = await response.json();
  // the same paper may be shown more than once on a page (e.g. in similar papers)
  document.querySelectorAll('button.upvote[data-paper="' + CSS.escape(result.id) + '"]').forEach((other) => {
    other.classList.toggle("voted", result.upvoted);
    other.setAttribute("aria-pressed", result.upvoted ? "true" : "false");
    other.querySelector(".count").textContent = String(result.upvotes);
  });
});

document.addEventListener("DOMContentLoaded", () => {
  // a new subscription defaults to the browser's own time zone
  const zone = document.getElementById("time-zone");
  if (zone && zone.value === "UTC" && window.Intl) {
    const mine = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (mine && zone.querySelector('option[value="' + CSS.escape(mine) + '"]')) zone.value = mine;
  }
  const toggle = document.getElementById("cite-toggle");
  const cite = document.getElementById("cite");
  if (toggle && cite) {
    toggle.setAttribute("aria-expanded", "false");
    toggle.addEventListener("click", () => {
      toggle.setAttribute("aria-expanded", cite.classList.toggle("open") ? "true" : "false");
    });
  }
  const copy = document.getElementById("copy-bibtex");
  if (copy) {
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(document.getElementById("bibtex").textContent);
        copy.textContent = "Copied";
      } catch (error) {
        window.getSelection().selectAllChildren(document.getElementById("bibtex"));
        copy.textContent = "Press Ctrl+C to copy";
      }
    });
  }
});

// The save menu: add to or remove from a collection without leaving the page.
postInPlace("save-toggle", "button", true, async (form, response) => {
  if (!response.ok) return;
  const result = await response.json();
  const paper = result.id;
  // the same paper may be on the page twice; each copy's menu has a form per collection
  document.querySelectorAll('details.save[data-paper="' + CSS.escape(paper) + '"]').forEach((menu) => {
    menu.querySelectorAll('form.save-toggle[action="' + form.getAttribute("action") + '"]').forEach((other) => {
      const option = other.querySelector("button");
      other.querySelector('input[name="change"]').value = result.saved ? "remove" : "add";
      option.classList.toggle("in", result.saved);
      option.setAttribute("aria-pressed", result.saved ? "true" : "false");
      option.querySelector(".mark").textContent = result.saved ? "✓" : "+";
    });
    const saved = menu.querySelector(".save-option.in") !== null;
    const summary = menu.querySelector("summary");
    summary.classList.toggle("saved", saved);
    summary.textContent = saved ? "★ Saved" : "☆ Save";
  });
});

// "Not for me" on a card or a paper page: marked (or undone) in place, the page and the
// keyboard focus where the reader left them (the plain form reloads the page at its top).
postInPlace("not-for-me", "button", true, async (form, response) => {
  if (!response.ok) {
    form.submit();  // the plain form's answer: a sign-in page, or the error named
    return;
  }
  const result = await response.json();
  document.querySelectorAll('button.not-for-me-button[data-paper="' + CSS.escape(result.id) + '"]').forEach((other) => {
    const marked = result.not_for_me;
    other.classList.toggle("marked", marked);
    other.setAttribute("aria-pressed", marked ? "true" : "false");
    other.title = marked ? "Undo: show papers like this again" : "Not for me: show fewer like this";
    other.textContent = marked ? "↺ Undo not for me" : "✕ Not for me";
    other.form.querySelector('input[name="change"]').value = marked ? "remove" : "add";
  });
});

// Escape closes an open save menu and gives the focus back to its "☆ Save" button, as a
// menu does (a <details> alone stays open, the focus inside it).
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || !(event.target instanceof Element)) return;
  const menu = event.target.closest("details.save[open]");
  if (!menu) return;
  menu.open = false;
  menu.querySelector("summary").focus();
});
