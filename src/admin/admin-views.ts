import type { NestExpressApplication } from '@nestjs/platform-express';
import hbs from 'hbs';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_ASSETS_PATH } from './admin.constants.js';

/**
 * The package's root: the nearest folder above this file with a `package.json`. The same from
 * `src/` (ts-jest) and from `dist/src/` (the build), which has none of its own.
 */
function packageRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(folder, 'package.json'))) {
    const parent = dirname(folder);
    if (parent === folder) throw new Error('No package.json above the admin module');
    folder = parent;
  }
  return folder;
}

const ROOT = packageRoot();

/** The console's Handlebars templates: one per page, `layout.hbs` around them, `partials/`. */
export const ADMIN_VIEWS_DIR = join(ROOT, 'views');
/** The console's static files (its stylesheet). */
export const ADMIN_PUBLIC_DIR = join(ROOT, 'public');

/**
 * A Handlebars engine for Express with the console's partials. `{{value}}` escapes what it writes;
 * the templates never write a value unescaped (only the layout's `{{{body}}}`, itself a rendered page).
 */
export function adminViewEngine(): typeof hbs.__express {
  const engine = hbs.create();
  engine.registerPartials(join(ADMIN_VIEWS_DIR, 'partials'));
  return engine.__express.bind(engine);
}

/**
 * Sets the app up to render the console's pages (`@Render('jobs')` renders `views/jobs.hbs` in
 * `views/layout.hbs`) and to serve its stylesheet under `ADMIN_ASSETS_PATH`.
 */
export function useAdminViews(app: NestExpressApplication): void {
  app.engine('hbs', adminViewEngine());
  app.setBaseViewsDir(ADMIN_VIEWS_DIR);
  app.setViewEngine('hbs');
  app.useStaticAssets(ADMIN_PUBLIC_DIR, { prefix: ADMIN_ASSETS_PATH, maxAge: '1h', index: false, redirect: false });
}
