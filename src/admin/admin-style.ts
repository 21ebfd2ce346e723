/** The console's stylesheet, served at `ADMIN_STYLESHEET_PATH` so the pages need no inline style. */
export const ADMIN_STYLESHEET = `
:root { color-scheme: light; --ink: #1d232b; --muted: #5d6876; --line: #d9dee5; --bg: #f6f7f9; --accent: #2457c5; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
header { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.5rem; background: #1d232b; color: #fff; }
header .brand { font-weight: 600; }
header nav { display: flex; gap: 1rem; flex: 1; }
header a { color: #cfd8e3; text-decoration: none; }
header a:hover { color: #fff; }
header form { margin: 0; }
main { padding: 1rem 1.5rem 3rem; max-width: 1400px; }
h1 { font-size: 1.3rem; margin: .4rem 0 1rem; }
h2 { font-size: 1.05rem; margin: 1.6rem 0 .6rem; }
a { color: var(--accent); }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef1f5; font-weight: 600; white-space: nowrap; }
td.mono, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; }
td.error { color: #8a1c1c; max-width: 32rem; overflow-wrap: anywhere; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1.2rem; background: #fff; border: 1px solid var(--line); padding: .8rem 1rem; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
pre { background: #fff; border: 1px solid var(--line); padding: .8rem; overflow: auto; max-height: 30rem; }
form.filters { display: flex; flex-wrap: wrap; gap: .8rem; align-items: end; margin-bottom: 1rem; }
label { display: flex; flex-direction: column; gap: .2rem; color: var(--muted); font-size: 12.5px; }
input, select, button { font: inherit; padding: .3rem .5rem; border: 1px solid #b8c0cb; border-radius: 4px; background: #fff; }
button { cursor: pointer; background: var(--accent); border-color: var(--accent); color: #fff; }
button.secondary { background: transparent; border-color: #8391a3; color: #cfd8e3; }
.status { display: inline-block; padding: 0 .45rem; border-radius: 9px; font-size: 12px; font-weight: 600; background: #e4e8ee; }
.status-complete, .status-processed { background: #d7f0dd; color: #17612d; }
.status-rendering, .status-received { background: #dde8fb; color: #1c4596; }
.status-error, .status-failed { background: #fadcdc; color: #8a1c1c; }
.status-quarantined, .status-stale { background: #fde9c8; color: #7a4a00; }
.status-ignored { background: #e4e8ee; color: #4a5563; }
.notice { padding: .6rem .9rem; border-radius: 4px; margin: 0 0 1rem; border: 1px solid; }
.notice-ok { background: #e7f6ea; border-color: #9fd3aa; }
.notice-error { background: #fbe9e9; border-color: #e3a3a3; }
.notice-warning { background: #fff4dc; border-color: #e8c77c; }
.empty { color: var(--muted); padding: 1rem 0; }
.muted, .empty-value { color: var(--muted); }
.pager { margin-top: 1rem; }
.login { max-width: 26rem; margin: 4rem auto; background: #fff; border: 1px solid var(--line); padding: 1.5rem; }
.login form { display: flex; flex-direction: column; gap: .8rem; }
`;
