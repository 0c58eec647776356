// Where the vendored widget manager (vendor/embed-amd.js) finds its Font Awesome fonts.
//
// The bundle holds several AMD modules ("@jupyter-widgets/base", ".../controls",
// ".../html-manager/dist/libembed-amd", ...); each looks for the fonts in the folder of its own
// module URL, which require.js places relative to the page (book/@jupyter-widgets/...): a
// missing file on every page. This maps each module into vendor/fonts/ next to this script, where
// the fonts are vendored (no module is loaded from there: embed-amd.js defines them all). It must
// run after require.js and before embed-amd.js (the order of html_js_files in _config.yml).
(function () {
  var script = document.currentScript;
  if (!script || !script.src || typeof window.requirejs === "undefined") return;
  var fonts = new URL("vendor/fonts", script.src).href;
  var paths = { "@jupyter-widgets/html-manager/dist": fonts };
  ["base", "base7", "controls", "controls7", "html-manager"].forEach(function (name) {
    paths["@jupyter-widgets/" + name] = fonts + "/" + name;
  });
  window.requirejs.config({ paths: paths });
})();
