/** package.json's "main" is the programmatic API: it exists and exports each stage of the study. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

test('package main resolves to the API with every stage', async () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { main: string; types: string };
  assert.ok(fs.existsSync(path.join(REPO, pkg.types)), `${pkg.types} missing`);
  const api = await import(pathToFileURL(path.join(REPO, pkg.main)).href) as Record<string, unknown>;
  for (const name of ['initEngine', 'writePhantoms', 'prepareDataset', 'trainGan', 'sampleRun', 'evaluateRun', 'runSegmentation', 'loadStudy', 'planStudy', 'runStudy', 'StudyStore', 'recordsFromStore', 'renderStudyReport']) {
    assert.equal(typeof api[name], 'function', name);
  }
});
