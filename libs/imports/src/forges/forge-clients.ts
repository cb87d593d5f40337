import { ForgePager } from '../forge-http';
import type { Forge } from '../import.contract';
import type { ForgeClient } from './forge.types';
import { GiteaForge } from './gitea.forge';
import { GitHubForge } from './github.forge';
import { GitLabForge } from './gitlab.forge';

/** The client of each forge, over one pager (and so one transport and one set of limits). */
export function forgeClients(pager: ForgePager): Record<Forge, ForgeClient> {
  return { gitea: new GiteaForge(pager), gitlab: new GitLabForge(pager), github: new GitHubForge(pager) };
}
