import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './src/config/app.config.js';
import { dataSourceOptions } from './src/database/data-source.options.js';

/** The TypeORM CLI's data source (`npm run typeorm -- migration:show`), built from the app's own options. */
export default new DataSource(dataSourceOptions(loadConfig()));
