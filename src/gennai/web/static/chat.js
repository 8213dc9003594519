// The chat page: sends a message, reads the answer as Server-Sent Events from the POST response,
// renders it as it arrives, and offers stop, retry and copy.
"use strict";
(() => {
  const chat = document.getElementById("chat");
  const list = document.getElementById("messages");
  const form = document.getElementById("composer");
  const input = document.getElementById("message");
  const modelSelect = document.getElementById("model");
  const sendButton = document.getElementById("send");
  const stopButton = document.getElementById("stop");
  const retryButton = document.getElementById("retry");
  const errorBanner = document.getElementById("chat-error");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const text = chat.dataset;
  let controller = null;

  function showError(message) {
    errorBanner.textContent = message;
    errorBanner.hidden = !message;
  }

  function addMessage(role, content) {
    const item = document.createElement("li");
    item.className = `message ${role}`;
    const who = document.createElement("p");
    who.className = "who";
    who.textContent = role === "user" ? text.textYou : text.textAssistant;
    const body = document.createElement("div");
    body.className = role === "user" ? "body plain" : "body md";
    body.textContent = content;
    item.append(who, body);
    if (role === "assistant") {
      const actions = document.createElement("div");
      actions.className = "actions";
      const copy = document.createElement("button");
      copy.type = "button";
      copy.className = "copy";
      copy.textContent = text.textCopy;
      actions.append(copy);
      item.append(actions);
    }
    list.append(item);
    return item;
  }

  function addNote(item, message, isError) {
    const note = document.createElement("p");
    note.className = isError ? "note error" : "note";
    if (isError) note.setAttribute("role", "alert");
    note.textContent = message;
    item.insertBefore(note, item.querySelector(".actions"));
  }

  function setBusy(busy) {
    sendButton.disabled = busy;
    stopButton.hidden = !busy;
    retryButton.hidden = busy || list.children.length === 0;
    input.readOnly = busy;
  }

  async function readEvents(response, onEvent) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let boundary;
      while ((boundary = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        let name = "message";
        let data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) name = line.slice(7);
          else if (line.startsWith("data: ")) data += line.slice(6);
        }
        onEvent(name, data ? JSON.parse(data) : {});
      }
    }
  }

  async function streamAnswer(url, payload) {
    showError("");
    setBusy(true);
    controller = new AbortController();
    const answer = addMessage("assistant", "");
    answer.classList.add("status-pending");
    const body = answer.querySelector(".body");
    body.setAttribute("aria-busy", "true");
    body.textContent = text.textGenerating;
    let received = "";
    let finished = false;
    let renderPending = false;
    // Re-render at most once a frame: parsing the whole answer on every token would grow quadratically.
    const scheduleRender = () => {
      if (renderPending) return;
      renderPending = true;
      requestAnimationFrame(() => {
        renderPending = false;
        window.gennaiMarkdown.render(body, received);
      });
    };
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, Accept: "text/event-stream" },
        body: JSON.stringify(payload),
        signal: controller.signal,
      });
      if (!response.ok) {
        const problem = await response.json().catch(() => ({}));
        answer.remove();
        showError((problem.error && problem.error.message) || `HTTP ${response.status}`);
        return false;
      }
      await readEvents(response, (name, data) => {
        if (name === "start") {
          chat.dataset.conversationId = data.conversation_id;
          if (window.location.pathname !== `/c/${data.conversation_id}`) {
            window.history.replaceState(null, "", `/c/${data.conversation_id}`);
          }
        } else if (name === "delta") {
          received += data.text;
          scheduleRender();
        } else if (name === "done") {
          finished = true;
          answer.classList.replace("status-pending", "status-complete");
        } else if (name === "error") {
          finished = true;
          answer.classList.replace("status-pending", "status-error");
          addNote(answer, `${text.textError} ${data.message}`, true);
        }
      });
      if (!finished) {
        answer.classList.replace("status-pending", "status-incomplete");
        addNote(answer, text.textNetwork, true);
      }
    } catch (error) {
      answer.classList.replace("status-pending", "status-incomplete");
      addNote(answer, error.name === "AbortError" ? text.textIncomplete : text.textNetwork, false);
    } finally {
      body.dataset.source = received;
      if (received) window.gennaiMarkdown.render(body, received);
      else body.textContent = "";
      body.removeAttribute("aria-busy");
      controller = null;
      setBusy(false);
    }
    return true;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const content = input.value.trim();
    if (!content || controller) return;
    addMessage("user", content);
    input.value = "";
    const ok = await streamAnswer("/chat/messages", {
      conversation_id: chat.dataset.conversationId || null,
      content,
      model: modelSelect.value,
    });
    if (!ok) {
      list.lastElementChild.remove();
      input.value = content;
    }
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  stopButton.addEventListener("click", () => controller && controller.abort());

  retryButton.addEventListener("click", () => {
    const id = chat.dataset.conversationId;
    if (!id || controller) return;
    const last = list.lastElementChild;
    if (last && last.classList.contains("assistant")) last.remove();
    streamAnswer(`/chat/${id}/retry`, { model: modelSelect.value });
  });

  list.addEventListener("click", async (event) => {
    const button = event.target.closest("button.copy");
    if (!button) return;
    const body = button.closest(".message").querySelector(".body");
    await navigator.clipboard.writeText(body.dataset.source || body.textContent);
    button.textContent = text.textCopied;
    setTimeout(() => { button.textContent = text.textCopy; }, 1500);
  });
})();
