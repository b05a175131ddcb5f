const a = "x.json", b = `y${1}.png`; /re\/[/"]x/g.test(a); // "z.png"
/* "w.png" */ import("./m.mjs");
//# sourceMappingURL=app.js.map
