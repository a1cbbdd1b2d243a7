pub mod activation;
pub mod dual;
pub mod quadrature;
