/** The OpenAPI security scheme of the REST API: `Authorization: Bearer <one of API_KEYS>`. */
export const API_KEY_AUTH = 'api-key';
/** The OpenAPI security scheme of `GET /metrics` when `METRICS_TOKEN` is set. */
export const METRICS_TOKEN_AUTH = 'metrics-token';
