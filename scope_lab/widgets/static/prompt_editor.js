// PromptEditor's view. It paints what Python computed (segments, error, variables,
// form fields, preview, diff) and sends back what the user typed; it holds no logic
// of its own beyond layout. Stable hooks for browser tests: data-testid attributes
// (scope-editor, scope-variable, scope-error, scope-preview, ...) and scope-* classes.

const ROLES = ["system", "user", "assistant"];

function h(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

// Paint one box: spans per segment, or plain text while the segments are stale
// (Python has not answered the last keystroke yet), so the layer always matches
// the textarea character for character.
function paint(layer, text, segments) {
  layer.replaceChildren();
  const fresh = segments.map((s) => s.text).join("") === text;
  if (!fresh) {
    layer.append(document.createTextNode(text));
  } else {
    for (const segment of segments) {
      const span = h("span", {
        class: `scope-seg scope-seg-${segment.kind}`,
        "data-kind": segment.kind,
        text: segment.text,
      });
      if (segment.kind === "error") span.setAttribute("data-testid", "scope-error-mark");
      layer.append(span);
    }
  }
  // A trailing newline needs a character after it to take up a line.
  layer.append(document.createTextNode("\u200b"));
}

function fit(textarea) {
  textarea.style.height = "auto";
  textarea.style.height = `${textarea.scrollHeight}px`;
}

function render({ model, el }) {
  const listeners = [];
  const on = (name, callback) => {
    model.on(name, callback);
    listeners.push([name, callback]);
  };
  const set = (name, value) => {
    model.set(name, value);
    model.save_changes();
  };

  const title = h("span", { class: "scope-title", "data-testid": "scope-title" });
  const busy = h("span", { class: "scope-busy", "data-testid": "scope-busy", role: "status" });
  const mode = h("select", { class: "scope-mode", "data-testid": "scope-mode" }, [
    h("option", { value: "text", text: "text" }),
    h("option", { value: "chat", text: "chat" }),
  ]);
  const status = h("div", { class: "scope-status", "data-testid": "scope-status" });
  const boxes = h("div", { class: "scope-boxes" });
  const addMessage = h("button", {
    class: "scope-add-message", "data-testid": "scope-add-message", text: "+ message",
  });
  const errorLine = h("div", { class: "scope-error-line", "data-testid": "scope-error" });
  const chips = h("div", { class: "scope-chips", "data-testid": "scope-variables" });
  const form = h("div", { class: "scope-form", "data-testid": "scope-form" });
  const preview = h("pre", { class: "scope-preview", "data-testid": "scope-preview" });
  const previewError = h("div", {
    class: "scope-preview-error", "data-testid": "scope-preview-error",
  });
  const saveMessage = h("input", {
    class: "scope-save-message", "data-testid": "scope-save-message",
    placeholder: "What changed?", type: "text",
  });
  const saveButton = h("button", {
    class: "scope-save", "data-testid": "scope-save", text: "Save version",
  });
  const versionSelect = h("select", { class: "scope-version", "data-testid": "scope-version" });
  const diffButton = h("button", { class: "scope-diff-button", "data-testid": "scope-diff-button", text: "Diff" });
  const loadButton = h("button", { class: "scope-load", "data-testid": "scope-load", text: "Open" });
  const diffOut = h("pre", { class: "scope-diff", "data-testid": "scope-diff" });

  const root = h("div", { class: "scope-prompt-editor", "data-testid": "scope-prompt-editor" }, [
    h("div", { class: "scope-header" }, [title, mode, busy]),
    status,
    boxes,
    addMessage,
    errorLine,
    h("div", { class: "scope-section-label", text: "Variables" }),
    chips,
    h("details", { class: "scope-preview-section", open: "" }, [
      h("summary", { text: "Preview" }),
      form,
      previewError,
      preview,
    ]),
    h("div", { class: "scope-actions" }, [saveMessage, saveButton]),
    h("div", { class: "scope-actions" }, [versionSelect, diffButton, loadButton]),
    diffOut,
  ]);
  el.append(root);
  // Keys typed into the editor are text, not notebook shortcuts (Enter would enter
  // edit mode, "a" insert a cell...): ipywidgets' own text boxes do the same.
  for (const type of ["keydown", "keypress"]) {
    root.addEventListener(type, (event) => {
      if (event.target.matches("textarea, input, select")) event.stopPropagation();
    });
  }

  // -- the editor boxes: one for text, one per message for chat --------------------
  let editors = []; // [{ input, layer, box, role? }]

  function contentOf(index) {
    return model.get("mode") === "text"
      ? model.get("source")
      : (model.get("messages")[index] || {}).content || "";
  }

  function editMessage(index, change) {
    const messages = model.get("messages").map((m) => ({ ...m }));
    Object.assign(messages[index], change);
    set("messages", messages);
  }

  function makeBox(index) {
    const layer = h("pre", { class: "scope-highlight", "aria-hidden": "true" });
    const input = h("textarea", {
      class: "scope-input", "data-testid": "scope-editor", "data-field": String(index),
      spellcheck: "false", rows: "3",
    });
    const box = h("div", { class: "scope-box", "data-testid": `scope-box-${index}` });
    const entry = { input, layer, box };
    if (model.get("mode") === "chat") {
      const role = h("select", { class: "scope-role", "data-testid": "scope-role" },
        ROLES.map((r) => h("option", { value: r, text: r })));
      role.value = model.get("messages")[index].role || "user";
      role.addEventListener("change", () => editMessage(index, { role: role.value }));
      const remove = h("button", {
        class: "scope-remove-message", "data-testid": "scope-remove-message",
        title: "Remove this message", text: "×",
      });
      remove.addEventListener("click", () => {
        set("messages", model.get("messages").filter((_, i) => i !== index));
      });
      box.append(h("div", { class: "scope-message-head" }, [role, remove]));
      entry.role = role;
    }
    box.append(h("div", { class: "scope-layers" }, [layer, input]));
    input.value = contentOf(index);
    input.addEventListener("input", () => {
      paintAll();
      fit(input);
      if (model.get("mode") === "text") set("source", input.value);
      else editMessage(index, { content: input.value });
    });
    return entry;
  }

  function buildBoxes() {
    const count = model.get("mode") === "text" ? 1 : model.get("messages").length;
    editors = Array.from({ length: count }, (_, i) => makeBox(i));
    boxes.replaceChildren(...editors.map((e) => e.box));
    addMessage.style.display = model.get("mode") === "chat" ? "" : "none";
    mode.value = model.get("mode");
    paintAll();
    requestAnimationFrame(() => editors.forEach((e) => fit(e.input)));
  }

  function syncBoxes() {
    const count = model.get("mode") === "text" ? 1 : model.get("messages").length;
    if (count !== editors.length) return buildBoxes();
    editors.forEach((entry, index) => {
      const text = contentOf(index);
      // Only replace what the user sees when it really changed (a load, a switch):
      // an echo of their own typing must not move the caret.
      if (entry.input.value !== text) {
        entry.input.value = text;
        fit(entry.input);
      }
      if (entry.role) entry.role.value = model.get("messages")[index].role || "user";
    });
    paintAll();
  }

  function paintAll() {
    const segments = model.get("segments");
    const error = model.get("error");
    editors.forEach((entry, index) => {
      paint(entry.layer, entry.input.value, segments.filter((s) => s.field === index));
      entry.box.classList.toggle("scope-has-error", Boolean(error && error.field === index));
    });
  }

  // -- everything else Python computed ---------------------------------------------
  function showError() {
    const error = model.get("error");
    errorLine.textContent = error
      ? error.message // it says which line already
      : "";
    errorLine.style.display = error ? "" : "none";
    if (error && error.line) errorLine.setAttribute("data-line", String(error.line));
    else errorLine.removeAttribute("data-line");
  }

  function showVariables() {
    const names = model.get("variables");
    chips.replaceChildren(...names.map((name) => h("span", {
      class: "scope-chip", "data-testid": "scope-variable", "data-name": name, text: name,
    })));
    if (!names.length) chips.append(h("span", { class: "scope-none", text: "none" }));
  }

  function showForm() {
    const values = model.get("preview_values");
    form.replaceChildren(...model.get("fields").map((field) => {
      const json = field.kind === "json";
      const input = h(json ? "textarea" : "input", {
        class: "scope-field-input", "data-testid": `scope-field-${field.name}`,
        "data-name": field.name, "data-kind": field.kind, rows: json ? "2" : undefined,
        placeholder: json ? '["a", "b"]' : (field.default ?? (field.required ? "" : "(optional)")),
      });
      input.value = values[field.name] || "";
      input.addEventListener("input", () => {
        set("preview_values", { ...model.get("preview_values"), [field.name]: input.value });
      });
      const label = h("label", {
        class: "scope-field" + (field.required ? " scope-required" : ""),
      }, [h("span", { class: "scope-field-name", text: field.name }), input]);
      return label;
    }));
  }

  function showPreview() {
    const rendered = model.get("preview");
    if (rendered === null || rendered === undefined) preview.textContent = "";
    else if (typeof rendered === "string") preview.textContent = rendered;
    else preview.textContent = rendered.map((m) => `[${m.role}]\n${m.content}`).join("\n\n");
    const problem = model.get("preview_error");
    previewError.textContent = problem;
    previewError.style.display = problem ? "" : "none";
  }

  function showHeader() {
    const base = model.get("base_version");
    const where = base === null ? "new" : `v${base}`;
    title.textContent = `${model.get("prompt")} · ${where}${model.get("dirty") ? " · unsaved" : ""}`;
    busy.textContent = model.get("busy") ? "working…" : "";
    busy.classList.toggle("scope-active", model.get("busy"));
    saveButton.disabled = model.get("busy");
    status.textContent = model.get("status");
    status.className = `scope-status scope-status-${model.get("status_kind")}`;
  }

  function showVersions() {
    const chosen = versionSelect.value;
    versionSelect.replaceChildren(...model.get("versions").map((n) =>
      h("option", { value: String(n), text: `v${n}` })));
    if (chosen) versionSelect.value = chosen;
    const none = !model.get("versions").length;
    diffButton.disabled = none;
    loadButton.disabled = none;
  }

  function showDiff() {
    diffOut.replaceChildren(...model.get("diff").split("\n").filter((l, i, all) =>
      l !== "" || i < all.length - 1).map((line) => {
      const kind = line.startsWith("+++") || line.startsWith("---") ? "file"
        : line.startsWith("+") ? "add" : line.startsWith("-") ? "del"
          : line.startsWith("@@") ? "hunk" : "same";
      return h("div", { class: `scope-diff-line scope-diff-${kind}`, text: line || " " });
    }));
    diffOut.style.display = model.get("diff") ? "" : "none";
  }

  // -- what the user does -----------------------------------------------------------
  mode.addEventListener("change", () => set("mode", mode.value));
  addMessage.addEventListener("click", () => {
    set("messages", [...model.get("messages"), { role: "user", content: "" }]);
  });
  saveButton.addEventListener("click", () => {
    model.send({ action: "save", message: saveMessage.value });
    saveMessage.value = "";
  });
  diffButton.addEventListener("click", () => {
    model.send({ action: "diff", version: Number(versionSelect.value) });
  });
  loadButton.addEventListener("click", () => {
    model.send({ action: "load", version: Number(versionSelect.value) });
  });

  on("change:mode", buildBoxes);
  on("change:source", syncBoxes);
  on("change:messages", syncBoxes);
  on("change:segments", paintAll);
  on("change:error", () => { showError(); paintAll(); });
  on("change:variables", showVariables);
  on("change:fields", showForm);
  on("change:preview", showPreview);
  on("change:preview_error", showPreview);
  for (const name of ["prompt", "base_version", "dirty", "busy", "status", "status_kind"]) {
    on(`change:${name}`, showHeader);
  }
  on("change:versions", showVersions);
  on("change:diff", showDiff);

  buildBoxes();
  showError();
  showVariables();
  showForm();
  showPreview();
  showHeader();
  showVersions();
  showDiff();

  return () => {
    for (const [name, callback] of listeners) model.off(name, callback);
  };
}

export default { render };
