// Legal Research page: asks questions and verifies citations through the JSON APIs, and shows
// every citation with its verification status. Markdown goes through the shared safe renderer.
"use strict";
(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const statusLabels = {};
  document.getElementById("status-labels").content.querySelectorAll("[data-status]").forEach((el) => {
    statusLabels[el.dataset.status] = el.textContent;
  });

  async function postJson(url, payload) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(payload),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error((body.error && body.error.message) || `HTTP ${response.status}`);
    return body;
  }

  function citationTable(citations) {
    const table = document.createElement("table");
    table.className = "citations";
    const head = table.createTHead().insertRow();
    ["引用", "判定", "理由"].forEach((label) => {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = label;
      head.append(th);
    });
    const body = table.createTBody();
    citations.forEach((citation) => {
      const row = body.insertRow();
      row.className = `status-${citation.status}`;
      const cited = row.insertCell();
      if (citation.law_id && citation.article && citation.status !== "not_found") {
        const link = document.createElement("a");
        link.href = `/legal/laws/${encodeURIComponent(citation.law_id)}/articles/${encodeURIComponent(citation.article)}`;
        link.textContent = citation.label || citation.text;
        cited.append(link);
      } else {
        cited.textContent = citation.label || citation.text;
      }
      row.insertCell().textContent = statusLabels[citation.status] || citation.status;
      row.insertCell().textContent = citation.reason || "";
    });
    return table;
  }

  function show(target, nodes) {
    target.replaceChildren(...nodes);
  }

  function message(text, isError) {
    const p = document.createElement("p");
    p.textContent = text;
    if (isError) {
      p.className = "error-banner";
      p.setAttribute("role", "alert");
    }
    return p;
  }

  const askForm = document.getElementById("ask-form");
  const askResult = document.getElementById("ask-result");
  askForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(askForm);
    const button = askForm.querySelector("button[type=submit]");
    button.disabled = true;
    show(askResult, [message(askForm.dataset.textWorking, false)]);
    try {
      const result = await postJson("/api/legal/ask", {
        question: data.get("question"), form: data.get("form"), model: data.get("model"),
      });
      const answer = document.createElement("div");
      answer.className = "md answer";
      window.gennaiMarkdown.render(answer, result.answer);
      show(askResult, [answer, citationTable(result.citations)]);
    } catch (error) {
      show(askResult, [message(error.message, true)]);
    } finally {
      button.disabled = false;
    }
  });

  const verifyForm = document.getElementById("verify-form");
  const verifyResult = document.getElementById("verify-result");
  verifyForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const result = await postJson("/api/legal/verify", { text: new FormData(verifyForm).get("text") });
      show(verifyResult, result.citations.length ? [citationTable(result.citations)] : [message("—", false)]);
    } catch (error) {
      show(verifyResult, [message(error.message, true)]);
    }
  });
})();
