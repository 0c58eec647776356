// Where the vendored widget manager (vendor/embed-amd.js) finds its Font Awesome fonts.
//
// The bundle looks for them next to its AMD module "@jupyter-widgets/html-manager/dist/...",
// which require.js places relative to the page (book/@jupyter-widgets/...): a missing file on
// every page. This maps that module path to vendor/fonts/ next to this script, where the fonts
// are vendored. It must run after require.js and before embed-amd.js (order in _config.yml).
(function () {
  var script = document.currentScript;
  if (!script || !script.src || typeof window.requirejs === "undefined") return;
  var fonts = new URL("vendor/fonts", script.src).href;
  window.requirejs.config({ paths: { "@jupyter-widgets/html-manager/dist": fonts } });
})();
