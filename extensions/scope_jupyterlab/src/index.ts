/** The Scope panel plugin: adds the sidebar and wires it to the Jupyter server. */
import { ILabShell, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { ServerConnection } from '@jupyterlab/services';
import { LabIcon } from '@jupyterlab/ui-components';

import { ScopeClient } from './api';
import { ScopePanel } from './panel';

const scopeIcon = new LabIcon({
  name: 'scope-jupyterlab:scope',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
    '<path d="M11 3a8 8 0 1 0 4.9 14.3l4.4 4.4 1.4-1.4-4.4-4.4A8 8 0 0 0 11 3zm0 2a6 6 0 1 1 0 12 6 6 0 0 1 0-12z"/>' +
    '</g></svg>'
});

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'scope-jupyterlab:panel',
  description: "Scope's prompt registry in the left sidebar.",
  autoStart: true,
  requires: [ILabShell, INotebookTracker],
  activate: (app: JupyterFrontEnd, shell: ILabShell, notebooks: INotebookTracker) => {
    const settings = ServerConnection.makeSettings();
    // Every call goes to this Jupyter server (its own auth and XSRF), never to Scope.
    const client = new ScopeClient((path, init) =>
      ServerConnection.makeRequest(settings.baseUrl + path, init ?? {}, settings)
    );
    const insertCell = async (code: string): Promise<boolean> => {
      const current = notebooks.currentWidget;
      if (!current) {
        return false;
      }
      // A notebook still loading would replace the cell with the file's cells.
      await current.context.ready;
      NotebookActions.insertBelow(current.content);
      current.content.activeCell?.model.sharedModel.setSource(code);
      shell.activateById(current.id);
      return true;
    };
    const panel = new ScopePanel(client, insertCell);
    panel.title.icon = scopeIcon;
    shell.add(panel, 'left', { rank: 900 });
    void panel.refresh();
  }
};

export default plugin;
