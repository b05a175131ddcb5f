// app.js — first-party script for the fixture site (hand-minified output of src/app.ts)
const e=document.querySelectorAll(".grid figure");const t=new IntersectionObserver((n)=>{for(const o of n){if(o.isIntersecting){o.target.classList.add("visible");t.unobserve(o.target)}}},{rootMargin:"64px"});for(const n of e)t.observe(n);
function formatPrice(n,c="EUR"){return new Intl.NumberFormat(document.documentElement.lang||"en",{style:"currency",currency:c}).format(n)}
function debounce(f,ms){let h;return(...a)=>{clearTimeout(h);h=setTimeout(()=>f(...a),ms)}}
const cart={items:[],add(i){this.items.push(i);this.save()},remove(id){this.items=this.items.filter(i=>i.id!==id);this.save()},total(){return this.items.reduce((s,i)=>s+i.price*i.qty,0)},save(){try{localStorage.setItem("cart",JSON.stringify(this.items))}catch(x){console.warn("cart not saved",x)}},load(){try{this.items=JSON.parse(localStorage.getItem("cart")||"[]")}catch(x){this.items=[]}}};
cart.load();
window.addEventListener("resize",debounce(()=>{document.documentElement.style.setProperty("--vh",window.innerHeight/100+"px")},100));
const dir="data/",pics=["img/","hero.jpg"];
fetch(dir+"products.json").then(r=>r.ok?r.json():Promise.reject(r.status)).then(p=>{const l=document.querySelector(".grid");if(!l)return;for(const x of p.products){const f=document.createElement("figure");f.className="product";f.innerHTML=`<figcaption>${x.name} — ${formatPrice(x.price)}</figcaption>`;l.appendChild(f)}const i=new Image();i.alt="";i.onload=()=>{document.documentElement.dataset.app="ran"};i.onerror=()=>console.error("picture unavailable",i.src);i.src=pics.join("");document.querySelector(".product").prepend(i)}).catch(s=>console.error("products unavailable",s));
export{cart,formatPrice,debounce};
//# sourceMappingURL=app.js.map
