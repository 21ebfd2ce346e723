/** Where the operator console lives. */
export const ADMIN_PATH = '/admin';
/** The console's login page. */
export const ADMIN_LOGIN_PATH = '/admin/login';
/** Where Bull Board is mounted. */
export const QUEUE_BOARD_PATH = '/admin/queues';
/** Where the console's static files (its stylesheet) are served from `public/`. */
export const ADMIN_ASSETS_PATH = '/admin/assets';

/** The cookie that holds a console session's id. */
export const ADMIN_SESSION_COOKIE = 'mh_admin_session';
/** The table console sessions are stored in (see its migration). */
export const ADMIN_SESSION_TABLE = 'admin_sessions';
/** How long a console login lasts. */
export const ADMIN_SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** Largest form body the console reads (a login or a replay button). */
export const ADMIN_FORM_LIMIT_BYTES = 8 * 1024;
/** Jobs or events on one console page. */
export const ADMIN_PAGE_SIZE = 25;
