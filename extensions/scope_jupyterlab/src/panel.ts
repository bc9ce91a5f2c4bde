/**
 * The Scope sidebar: prompts (search, tags, production badge), their versions and
 * actions, recent executions and runs. Plain DOM in a Lumino widget: the view is
 * rebuilt from state on each change, and all data shaping lives in api.ts.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import {
  actionsFor,
  allTags,
  canWrite,
  contentText,
  diffLines,
  editorSnippet,
  Execution,
  formatCost,
  insertSnippet,
  Me,
  Prompt,
  Run,
  ScopeClient,
  ScopeError,
  Version,
  VersionAction
} from './api';

/** Where "Insert into notebook" puts code; false when no notebook is open. */
export type CellInserter = (code: string) => Promise<boolean>;

type Detail = { kind: 'content'; version: Version } | { kind: 'diff'; from: Version; to: Version };

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

function button(label: string, onClick: () => void, attrs: Record<string, string> = {}): HTMLButtonElement {
  const node = el('button', { class: 'jp-Button scope-button', type: 'button', ...attrs }, label);
  node.addEventListener('click', event => {
    event.stopPropagation();
    onClick();
  });
  return node;
}

export class ScopePanel extends Widget {
  private prompts: Prompt[] = [];
  private me: Me | null = null;
  private expanded: string | null = null;
  private versions = new Map<string, Version[]>();
  private detail: Detail | null = null;
  private executions: Execution[] = [];
  private runs: Run[] = [];
  private query = '';
  private tag = '';
  private error: string | null = null;
  private message: string | null = null;
  private showSettings = false;
  private loading = false;

  constructor(
    private readonly client: ScopeClient,
    private readonly insertCell: CellInserter
  ) {
    super();
    this.id = 'scope-panel';
    this.addClass('scope-panel');
    this.title.caption = 'Scope prompt registry';
  }

  /** Reload everything from Scope; an error is shown in the panel, never thrown. */
  async refresh(): Promise<void> {
    this.loading = true;
    this.render();
    try {
      const settings = await this.client.settings();
      if (!settings.base_url || !settings.has_api_key) {
        this.showSettings = true;
        throw new ScopeError(0, 'Scope is not configured: set its URL and an API key below.');
      }
      this.me = await this.client.me();
      this.prompts = await this.client.prompts(this.query, this.tag);
      if (this.expanded) {
        this.versions.set(this.expanded, await this.client.versions(this.expanded));
      }
      [this.executions, this.runs] = await Promise.all([this.client.executions(), this.client.runs()]);
      this.error = null;
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    } finally {
      this.loading = false;
      this.render();
    }
  }

  private async toggle(prompt: Prompt): Promise<void> {
    this.detail = null;
    if (this.expanded === prompt.name) {
      this.expanded = null;
      this.render();
      return;
    }
    this.expanded = prompt.name;
    await this.guard(async () => {
      this.versions.set(prompt.name, await this.client.versions(prompt.name));
    });
  }

  /** Run an action, showing its failure (a 403 included) as a message in the panel. */
  private async guard(action: () => Promise<void>): Promise<void> {
    try {
      await action();
      this.error = null;
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
    this.render();
  }

  private async act(prompt: Prompt, version: Version, action: VersionAction): Promise<void> {
    const verb = action[0].toUpperCase() + action.slice(1);
    const result = await showDialog({
      title: `${verb} ${prompt.name} v${version.number}?`,
      body:
        action === 'promote'
          ? `v${version.number} becomes the production version; the current one is archived.`
          : `The version's status changes; nothing is deleted.`,
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: verb })]
    });
    if (!result.button.accept) {
      return;
    }
    await this.guard(async () => {
      await this.client.transition(prompt.name, version.number, action);
      this.message = `${prompt.name} v${version.number}: ${action} done.`;
    });
    if (this.error === null) {
      await this.refresh();
    }
  }

  private async insert(code: string): Promise<void> {
    this.message = (await this.insertCell(code))
      ? 'Cell added to the notebook.'
      : 'Open a notebook first: the cell goes into the active notebook.';
    this.render();
  }

  private render(): void {
    const root = this.node;
    root.replaceChildren(this.header());
    if (this.error) {
      root.append(el('div', { class: 'scope-error', role: 'alert' }, this.error));
    }
    if (this.message) {
      root.append(el('div', { class: 'scope-message', role: 'status' }, this.message));
    }
    if (this.showSettings) {
      root.append(this.settingsForm());
    }
    root.append(this.filters(), this.promptList(), this.activity());
  }

  private header(): HTMLElement {
    return el(
      'div',
      { class: 'scope-header' },
      el('h2', {}, 'Scope'),
      el('span', { class: 'scope-role' }, this.me ? this.me.role : ''),
      button(this.loading ? 'Loading…' : 'Refresh', () => void this.refresh(), {
        class: 'jp-Button scope-button scope-refresh'
      }),
      button('Settings', () => {
        this.showSettings = !this.showSettings;
        this.render();
      })
    );
  }

  private settingsForm(): HTMLElement {
    const url = el('input', { class: 'scope-setting-url', placeholder: 'http://127.0.0.1:8000' });
    const key = el('input', { class: 'scope-setting-key', type: 'password', placeholder: 'API key' });
    const form = el('form', { class: 'scope-settings' }, el('label', {}, 'Scope URL', url),
      el('label', {}, 'API key', key), el('button', { class: 'jp-Button scope-button', type: 'submit' }, 'Connect'));
    form.addEventListener('submit', event => {
      event.preventDefault();
      void this.guard(async () => {
        await this.client.saveSettings(url.value, key.value);
        this.showSettings = false;
      }).then(() => this.refresh());
    });
    return form;
  }

  private filters(): HTMLElement {
    const search = el('input', { class: 'scope-search', placeholder: 'Search prompts', type: 'search' });
    search.value = this.query;
    search.addEventListener('change', () => {
      this.query = search.value;
      void this.refresh();
    });
    const tags = el('select', { class: 'scope-tag' }, el('option', { value: '' }, 'All tags'));
    for (const tag of new Set([...allTags(this.prompts), ...(this.tag ? [this.tag] : [])])) {
      tags.append(el('option', { value: tag }, tag));
    }
    tags.value = this.tag;
    tags.addEventListener('change', () => {
      this.tag = tags.value;
      void this.refresh();
    });
    return el('div', { class: 'scope-filters' }, search, tags);
  }

  private promptList(): HTMLElement {
    const list = el('ul', { class: 'scope-prompts' });
    if (!this.prompts.length && !this.error && !this.loading) {
      list.append(el('li', { class: 'scope-empty' }, 'No prompts.'));
    }
    for (const prompt of this.prompts) {
      const row = el(
        'div',
        { class: 'scope-prompt-row' },
        el('span', { class: 'scope-prompt-name' }, prompt.name),
        ...prompt.tags.map(t => el('span', { class: 'scope-tag-chip' }, t)),
        prompt.production_version === null
          ? el('span', { class: 'scope-badge scope-badge-none' }, 'no production')
          : el('span', { class: 'scope-badge scope-badge-production' }, `production v${prompt.production_version}`)
      );
      row.addEventListener('click', () => void this.toggle(prompt));
      const item = el('li', { class: 'scope-prompt', 'data-name': prompt.name }, row);
      if (this.expanded === prompt.name) {
        item.append(this.promptDetail(prompt));
      }
      list.append(item);
    }
    return list;
  }

  private promptDetail(prompt: Prompt): HTMLElement {
    const versions = this.versions.get(prompt.name) ?? [];
    const latest = versions[0] ?? null;
    const production = versions.find(v => v.status === 'published');
    const box = el(
      'div',
      { class: 'scope-prompt-detail' },
      el('div', { class: 'scope-actions' },
        button('Insert into notebook', () => void this.insert(insertSnippet(prompt, production?.variables)), { class: 'jp-Button scope-button scope-insert' }),
        button('Open in editor', () => void this.insert(editorSnippet(prompt)), { class: 'jp-Button scope-button scope-open-editor' }))
    );
    const writable = canWrite(this.me);
    const list = el('ul', { class: 'scope-versions' });
    for (const version of versions) {
      const row = el('li', { class: `scope-version scope-status-${version.status}`, 'data-number': String(version.number) },
        el('span', { class: 'scope-version-number' }, `v${version.number}`),
        el('span', { class: 'scope-status' }, version.status),
        button('View', () => { this.detail = { kind: 'content', version }; this.render(); }));
      for (const action of actionsFor(version)) {
        const b = button(action, () => void this.act(prompt, version, action), { class: `jp-Button scope-button scope-${action}` });
        b.disabled = !writable;
        b.title = writable ? '' : `Your role (${this.me?.role}) cannot ${action}`;
        row.append(b);
      }
      list.append(row);
    }
    box.append(list);
    if (versions.length >= 2) {
      box.append(this.diffPicker(versions));
    }
    if (this.detail) {
      box.append(this.detailView(this.detail));
    }
    if (!latest) {
      box.append(el('div', { class: 'scope-empty' }, 'No versions yet.'));
    }
    return box;
  }

  private diffPicker(versions: Version[]): HTMLElement {
    const pick = (selected: Version): HTMLSelectElement => {
      const select = el('select', { class: 'scope-diff-select' });
      for (const v of versions) {
        select.append(el('option', { value: String(v.number) }, `v${v.number}`));
      }
      select.value = String(selected.number);
      return select;
    };
    const from = pick(versions[1]);
    const to = pick(versions[0]);
    const find = (s: HTMLSelectElement): Version => versions.find(v => String(v.number) === s.value)!;
    return el('div', { class: 'scope-diff-picker' }, 'Diff ', from, ' → ', to,
      button('Diff', () => { this.detail = { kind: 'diff', from: find(from), to: find(to) }; this.render(); }, { class: 'jp-Button scope-button scope-diff' }));
  }

  private detailView(detail: Detail): HTMLElement {
    if (detail.kind === 'content') {
      return el('pre', { class: 'scope-content' }, contentText(detail.version.content));
    }
    const pre = el('pre', { class: 'scope-diff-view' });
    for (const line of diffLines(contentText(detail.from.content), contentText(detail.to.content))) {
      const mark = line.kind === 'added' ? '+ ' : line.kind === 'removed' ? '- ' : '  ';
      pre.append(el('div', { class: `scope-diff-${line.kind}` }, mark + line.text));
    }
    return pre;
  }

  private activity(): HTMLElement {
    const executions = el('ul', { class: 'scope-executions' });
    for (const e of this.executions) {
      executions.append(el('li', { class: `scope-execution scope-run-${e.status}` },
        `${e.prompt} v${e.version} · ${e.model} · ${e.status} · ${formatCost(e.cost_usd)}`));
    }
    const runs = el('ul', { class: 'scope-runs' });
    for (const r of this.runs) {
      const progress = r.progress ? ` · ${r.progress.done}/${r.progress.total}` : '';
      runs.append(el('li', { class: `scope-run scope-run-${r.status}` },
        `${r.prompt ?? ''} on ${r.golden_set ?? ''} · ${r.status}${progress} · ${formatCost(r.spent_usd)}`));
    }
    return el('div', { class: 'scope-activity' },
      el('h3', {}, 'Recent executions'), this.executions.length ? executions : el('div', { class: 'scope-empty' }, 'None yet.'),
      el('h3', {}, 'Recent runs'), this.runs.length ? runs : el('div', { class: 'scope-empty' }, 'None yet.'));
  }
}
