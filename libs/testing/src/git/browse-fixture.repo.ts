import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fixtureGit } from './fixture-git.command';
import { fixtureBytes } from './fixture-repos.fixture';

/** A 2×2 PNG (red, green, blue, white): small, valid, and decodable by any browser. */
export const FIXTURE_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEklEQVR4nGP4z8DAAMIM/4EAAB/uBfsL2WiLAAAAAElFTkSuQmCC',
  'base64',
);

/** Markers the browse tests look for; a script that ran would set `window[SCRIPT_FLAG]`. */
export const BROWSE_FIXTURE = {
  readmeHeading: 'Browse fixture',
  docsLinkText: 'the guide',
  scriptFlag: '__browseFixtureScriptRan',
  imageFlag: '__browseFixtureImageHandlerRan',
  textFile: 'src/main.ts',
  textLines: ['// the entry point', 'export const answer = (): number => 42;', '', 'console.log(answer());'],
  binaryFile: 'data/blob.bin',
  bigTextFile: 'data/big.txt',
  png: 'assets/logo.png',
  html: 'hostile/page.html',
  svg: 'hostile/image.svg',
  symlink: 'link-to-guide',
  symlinkTarget: 'docs/guide.md',
  executable: 'bin/tool.sh',
  /** `caf\xe9.txt`: the name is Latin-1, not UTF-8. */
  latin1NameBytes: Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74]),
  latin1Dir: 'odd',
} as const;

const README = `# ${BROWSE_FIXTURE.readmeHeading}

Read [${BROWSE_FIXTURE.docsLinkText}](docs/guide.md), or visit [an external site](https://example.org/docs).

![the logo](assets/logo.png)

<script>window.${BROWSE_FIXTURE.scriptFlag} = true;</script>

<img src="missing.png" onerror="window.${BROWSE_FIXTURE.imageFlag} = true" alt="broken on purpose">

[a script link](javascript:window.${BROWSE_FIXTURE.scriptFlag}=true)

<p style="color: red" onclick="window.${BROWSE_FIXTURE.scriptFlag} = true">Styled and clickable, but neither survives.</p>
`;

const HOSTILE_HTML = `<!doctype html><html><body><script>document.title = 'pwned'; fetch('/api/archives');</script><p>hostile</p></body></html>\n`;
const HOSTILE_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(document.domain)</script><rect width="10" height="10"/></svg>\n`;

/**
 * `browse.git` in `root` (the git servers' root): a README with Markdown, a script and
 * inline handlers, a sub-directory README, text, binary, big, hostile (HTML, SVG), symlink,
 * executable and non-UTF-8 names. Its own repository, so the other fixtures stay as they are.
 */
export async function createBrowseFixtureRepo(root: string): Promise<string> {
  const work = path.join(root, '..', `browse-work-${process.pid}`);
  const f = BROWSE_FIXTURE;
  await fixtureGit(['init', '--quiet', '--initial-branch=main', work], root, work);
  try {
    const put = async (file: string | Buffer, content: string | Buffer, mode = 0o644) => {
      const full = typeof file === 'string' ? path.join(work, file) : Buffer.concat([Buffer.from(`${work}/`), file]);
      await mkdir(path.dirname(full.toString()), { recursive: true });
      await writeFile(full, content);
      await chmod(full, mode);
    };
    await put('README.md', README);
    await put('docs/guide.md', '# Guide\n\nBack to [the top](../README.md).\n');
    await put('docs/README', 'The docs folder: a plain-text README.\n');
    await put(f.textFile, `${f.textLines.join('\n')}\n`);
    await put(f.binaryFile, Buffer.concat([Buffer.from('BIN\0'), fixtureBytes(4096, 11)]));
    await put(f.bigTextFile, 'a line of text that repeats\n'.repeat(45_000));
    await put(f.png, FIXTURE_PNG);
    await put(f.html, HOSTILE_HTML);
    await put(f.svg, HOSTILE_SVG);
    await put(f.executable, '#!/bin/sh\necho tool\n', 0o755);
    await put(Buffer.concat([Buffer.from(`${f.latin1Dir}/`), f.latin1NameBytes]), 'a Latin-1 name\n');
    await symlink(f.symlinkTarget, path.join(work, f.symlink));
    await fixtureGit(['add', '--all'], work);
    await fixtureGit(['commit', '--quiet', '-m', 'browse fixture'], work);
    const bare = path.join(root, 'browse.git');
    await fixtureGit(['clone', '--quiet', '--bare', work, bare], root, work);
    return bare;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
