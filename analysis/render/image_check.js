window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var el = document.getElementById('image-check');
  el.setAttribute('data-loaded', ok); el.setAttribute('data-total', imgs.length);
  el.textContent = ok + ' of ' + imgs.length + ' images loaded';
});
