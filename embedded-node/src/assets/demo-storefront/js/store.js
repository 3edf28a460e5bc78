// The demo storefront: lists the booth's products from the node's catalogue, with the
// photos the node caches from this storefront.
const money = (minor, currency) =>
  new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(minor / 100);

async function load() {
  const list = document.getElementById('products');
  const [catalogue, photos] = await Promise.all([
    fetch('/api/v1/catalogue').then((r) => r.json()),
    fetch('/assets/products.json').then((r) => r.json()),
  ]);
  list.replaceChildren(
    ...catalogue.items.map((item) => {
      const li = document.createElement('li');
      li.className = 'card';
      const photo = photos[item.sku] ?? 'img/hero.jpg';
      li.innerHTML = `<img alt="" loading="lazy" src="/assets/${photo}"><div class="name"></div><div class="price"></div><a class="order" href="/shop/">Order in the shop</a>`;
      li.querySelector('.name').textContent = item.name;
      li.querySelector('.price').textContent = money(item.price, item.currency);
      return li;
    }),
  );
}

load().catch((e) => {
  document.getElementById('products').textContent = `The catalogue is not available right now (${e.message}).`;
});
