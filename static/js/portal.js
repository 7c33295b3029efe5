/* Small progressive enhancements. Every page works without this file.
   1. If htmx did not load from the CDN, load the self-hosted copy.
   2. Focus after htmx replaces the main content, as a full page load would reset it.
   3. The address widget's optional map pin (Leaflet, loaded only on pages that have the widget). */
(function () {
  "use strict";
  var me = document.currentScript;

  function loadScript(src, integrity, onload) {
    var s = document.createElement("script");
    s.src = src;
    if (integrity) { s.integrity = integrity; s.crossOrigin = "anonymous"; }
    s.onload = onload;
    document.head.appendChild(s);
  }

  // 1. htmx fallback: both scripts are deferred, so htmx has run (or failed) before this.
  if (!window.htmx && me && me.dataset.htmxFallback) {
    loadScript(me.dataset.htmxFallback, null, null);
  }

  // 2. Focus: a form with errors puts keyboard and screen-reader users on the error summary;
  // any other new page puts them at the start of the main content, not on the link they left.
  document.addEventListener("htmx:afterSwap", function (e) {
    if (!e.detail.target || e.detail.target.id !== "content") { return; }
    var main = document.getElementById("content");
    if (!main) { return; }
    var summary = main.querySelector(".error-summary");
    (summary || main).focus({ preventScroll: !summary });
  });

  // 3. Map pin.
  var leafletLoading = null;
  function withLeaflet(cfg, done) {
    if (window.L) { done(); return; }
    if (!leafletLoading) {
      leafletLoading = [];
      var css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = cfg.leafletCss;
      css.integrity = cfg.leafletCssSri;
      css.crossOrigin = "anonymous";
      document.head.appendChild(css);
      loadScript(cfg.leafletJs, cfg.leafletJsSri, function () {
        leafletLoading.forEach(function (fn) { fn(); });
      });
    }
    leafletLoading.push(done);
  }

  function setupMap(box) {
    if (box.dataset.ready) { return; }
    box.dataset.ready = "1";
    var form = box.closest("form");
    var lat = box.querySelector("#latitude");
    var lon = box.querySelector("#longitude");
    var status = box.querySelector(".pin-status");
    var mapEl = box.querySelector(".map");
    var actions = box.querySelector(".map-actions");
    withLeaflet(box.dataset, function () {
      var L = window.L;
      mapEl.hidden = false;
      actions.hidden = false;
      var start = centre(form, lat, lon);
      var map = L.map(mapEl, { scrollWheelZoom: false }).setView(start.point, start.zoom);
      L.tileLayer(box.dataset.tiles, {
        maxZoom: 19,
        attribution: "&copy; OpenStreetMap"
      }).addTo(map);
      var marker = null;
      function show() {
        if (lat.value && lon.value) {
          status.textContent = box.dataset.labelSet
            .replace("{lat}", Number(lat.value).toFixed(5))
            .replace("{lon}", Number(lon.value).toFixed(5));
        } else {
          status.textContent = box.dataset.labelNone;
        }
      }
      function place(latlng) {
        lat.value = latlng.lat.toFixed(6);
        lon.value = latlng.lng.toFixed(6);
        if (marker) { marker.setLatLng(latlng); } else { marker = L.marker(latlng).addTo(map); }
        show();
      }
      if (lat.value && lon.value) { place(L.latLng(Number(lat.value), Number(lon.value))); }
      map.on("click", function (e) { place(e.latlng); });
      box.querySelector("[data-action=clear]").addEventListener("click", function () {
        lat.value = ""; lon.value = "";
        if (marker) { map.removeLayer(marker); marker = null; }
        show();
      });
      box.querySelector("[data-action=locate]").addEventListener("click", function () {
        if (!navigator.geolocation) { status.textContent = box.dataset.labelDenied; return; }
        navigator.geolocation.getCurrentPosition(function (pos) {
          var ll = L.latLng(pos.coords.latitude, pos.coords.longitude);
          place(ll);
          map.setView(ll, 17);
        }, function () { status.textContent = box.dataset.labelDenied; }, { timeout: 10000 });
      });
      // Recentre on the chosen desa while no pin is set.
      form.addEventListener("change", function (e) {
        if (marker || !(e.target.id === "desa" || e.target.id === "kecamatan")) { return; }
        var c = centre(form, lat, lon);
        map.setView(c.point, c.zoom);
      });
    });
  }

  function centre(form, lat, lon) {
    if (lat.value && lon.value) { return { point: [Number(lat.value), Number(lon.value)], zoom: 17 }; }
    var pick = function (sel) {
      var el = form.querySelector(sel);
      var opt = el && el.selectedOptions && el.selectedOptions[0];
      return opt && opt.dataset.lat ? [Number(opt.dataset.lat), Number(opt.dataset.lon)] : null;
    };
    var d = pick("#desa");
    if (d) { return { point: d, zoom: 15 }; }
    var k = pick("#kecamatan");
    if (k) { return { point: k, zoom: 13 }; }
    return { point: [3.53, 98.75], zoom: 10 };
  }

  // 4. SADOKU hand-over: fill the hidden latitude/longitude from the device's position, once.
  // Without JavaScript, a position or permission, the fields stay empty and the form still works.
  function setupGeolocate(box) {
    if (box.dataset.ready) { return; }
    box.dataset.ready = "1";
    var lat = box.querySelector("input[name=latitude]");
    var lon = box.querySelector("input[name=longitude]");
    var status = box.querySelector(".geo-status");
    if (!lat || !lon || !navigator.geolocation) { return; }
    if (lat.value && lon.value) { return; }
    if (status) { status.textContent = box.dataset.labelWait; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      lat.value = pos.coords.latitude.toFixed(6);
      lon.value = pos.coords.longitude.toFixed(6);
      if (status) {
        status.textContent = box.dataset.labelSet.replace("{lat}", lat.value).replace("{lon}", lon.value);
      }
    }, function () {
      if (status) { status.textContent = box.dataset.labelDenied; }
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }

  // 5. Jumpa Madu prices: "Use my current location" posts the device's position (never in the
  // URL). Without JavaScript or geolocation the button stays hidden; the desa choice works.
  function setupLocateForm(form) {
    if (form.dataset.ready || !navigator.geolocation) { return; }
    form.dataset.ready = "1";
    form.hidden = false;
    var status = form.querySelector(".geo-status");
    form.querySelector("[data-action=locate]").addEventListener("click", function () {
      status.textContent = form.dataset.labelWait;
      navigator.geolocation.getCurrentPosition(function (pos) {
        form.querySelector("input[name=lat]").value = pos.coords.latitude.toFixed(6);
        form.querySelector("input[name=lon]").value = pos.coords.longitude.toFixed(6);
        status.textContent = "";
        form.requestSubmit();
      }, function () {
        status.textContent = form.dataset.labelDenied;
      }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 300000 });
    });
  }

  // 6. Mall shop page: a read-only map of the shop's pin. Without JavaScript the address and the
  // OpenStreetMap link stay; the map box is shown only once Leaflet has loaded.
  function setupShopMap(box) {
    if (box.dataset.ready) { return; }
    box.dataset.ready = "1";
    var lat = Number(box.dataset.lat);
    var lon = Number(box.dataset.lon);
    var mapEl = box.querySelector(".map");
    if (!mapEl || !isFinite(lat) || !isFinite(lon)) { return; }
    withLeaflet(box.dataset, function () {
      var L = window.L;
      mapEl.hidden = false;
      var map = L.map(mapEl, { scrollWheelZoom: false, dragging: !L.Browser.mobile })
        .setView([lat, lon], 16);
      L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: "&copy; OpenStreetMap" }).addTo(map);
      L.marker([lat, lon], { title: box.dataset.label || "", keyboard: false }).addTo(map);
    });
  }

  function init(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("[data-address-map]").forEach(setupMap);
    (root.querySelectorAll ? root : document).querySelectorAll("[data-geolocate]").forEach(setupGeolocate);
    (root.querySelectorAll ? root : document).querySelectorAll("[data-locate-form]").forEach(setupLocateForm);
    (root.querySelectorAll ? root : document).querySelectorAll("[data-shop-map]").forEach(setupShopMap);
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (e) { init(e.target); });
})();
