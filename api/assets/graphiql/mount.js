// Mounts GraphiQL on the page, pointed at this server's /graphql. A file of its
// own because the page's Content-Security-Policy allows no inline script.
"use strict";
ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher: GraphiQL.createFetcher({
      url: new URL("/graphql", window.location.origin).toString(),
    }),
    defaultEditorToolsVisibility: true,
  }),
);
