document.documentElement.dataset.app = "ran";
//# sourceMappingURL=app.js.map
